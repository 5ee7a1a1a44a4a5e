@_spi(Reflection) import Swift

/// A new document stores its own declared defaults: `@Field var token = UUID().uuidString`
/// evaluates the default for every instance, and the schema's copy (the first instance's) must
/// not stand in for them. Reading an instance's wrapper through a `Mirror` costs about 50 µs
/// for ten fields, more than encoding the document; the wrappers' offsets, found once per
/// class, make it one load per field.
extension Schema {
    /// Where each of `fields`' wrappers lies in an instance of `type`, in slot order (the
    /// standard library's field walk lists superclasses' stored properties first, as the
    /// schema's `Mirror` walk does); nil unless every wrapper is found under its field's name.
    static func wrapperOffsets(of type: FieldContainer.Type, fields: [FieldInfo]) -> [Int]? {
        var wrappers: [(label: String, offset: Int)] = []
        // `.classType`, spelled by its value: the standard library declares it a mutable static.
        let classType = _EachFieldOptions(rawValue: 1 << 0)
        let walked = _forEachField(of: type, options: classType) { label, offset, fieldType, _ in
            if fieldType is any AnyField.Type { wrappers.append((String(cString: label), offset)) }
            return true
        }
        guard walked, wrappers.count == fields.count,
              zip(wrappers, fields).allSatisfy({ $0.label == "_" + $1.name || $0.label == $1.name }) else { return nil }
        return wrappers.map(\.offset)
    }
}

extension FieldContainer {
    /// The declared default of the field at `slot` as this instance's initialiser evaluated it,
    /// encoded.
    final func ownEncodedDefault(_ slot: Int, schema: Schema) -> BSONValue {
        guard let offset = schema.wrapperOffsets?[slot] else {
            // A layout the field walk could not match: the slow, always available way.
            return Schema.fieldChildren(of: self)[slot].field.encodedDefault
        }
        let wrapperType = type(of: schema.fields[slot].declaration)
        return withExtendedLifetime(self) {
            wrapperType.encodedDefault(ofWrapperAt: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) + offset)
        }
    }

    /// The field's current value as BSON: written or read value, else stored, else this
    /// instance's declared default.
    final func currentValue(_ slot: Int, schema: Schema) -> BSONValue {
        fieldStorage.currentValue(slot, schema: schema) ?? ownEncodedDefault(slot, schema: schema)
    }
}

extension AnyField {
    /// The encoded default of the wrapper of this type at `pointer` (inside an instance).
    static func encodedDefault(ofWrapperAt pointer: UnsafeRawPointer) -> BSONValue {
        pointer.load(as: Self.self).encodedDefault
    }
}

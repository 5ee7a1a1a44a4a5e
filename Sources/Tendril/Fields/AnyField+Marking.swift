extension AnyField {
    /// Runs `body` with a marked copy of this wrapper written through `keyPath` into `instance`
    /// (passing the mark), then restores this wrapper; nil when `keyPath` cannot write there.
    func whileMarked<R>(through keyPath: AnyKeyPath, in instance: FieldContainer, _ body: (AnyObject) -> R) -> R? {
        func write<Root>(_: Root.Type) -> R? {
            guard let writable = keyPath as? ReferenceWritableKeyPath<Root, Self>, let root = instance as? Root else { return nil }
            let marked = self.marked()
            guard let mark = marked.identity else { return nil }
            root[keyPath: writable] = marked
            defer { root[keyPath: writable] = self }
            return body(mark)
        }
        return _openExistential(Swift.type(of: keyPath).rootType, do: write)
    }
}

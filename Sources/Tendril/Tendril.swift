// Users import `Tendril` alone: the BSON types and the driver come with it.
@_exported public import TendrilDriver

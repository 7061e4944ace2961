/// One figure of a profile and where it comes from: a publication or URL for nominal figures,
/// or the command that measured it.
public struct ProfileFigure: Sendable, Equatable, Codable {
    /// The number, in the unit its field name says.
    public var value: Double
    /// A URL, a publication name, or the command line that measured the value.
    public var source: String

    /// Makes a figure.
    public init(_ value: Double, source: String) {
        self.value = value
        self.source = source
    }
}

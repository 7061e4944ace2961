/// The bounds both client APIs enforce before a request reaches the model. Every size a client
/// controls is checked against one of these, so a hostile or buggy client costs at most one
/// bounded parse.
public struct ClientAPILimits: Sendable, Equatable {
    /// Largest request accepted: one ZeroMQ frame, or one HTTP body.
    public var maxMessageBytes: Int
    /// Largest prompt, in UTF-8 bytes (token counts are not known before tokenizing).
    public var maxPromptBytes: Int
    /// Largest `max_tokens` a client may ask for.
    public var maxTokens: Int
    /// Most stop strings in one request (OpenAI allows 4).
    public var maxStopSequences: Int
    /// Longest stop string, in UTF-8 bytes.
    public var maxStopBytes: Int
    /// Longest client-chosen request id, in UTF-8 bytes.
    public var maxIDBytes: Int
    /// Longest strategy override, in UTF-8 bytes.
    public var maxStrategyBytes: Int

    /// Limits with defaults fit for an edge device: 1 MiB messages, 256 KiB prompts,
    /// 4096 tokens, 16 stop strings of 256 bytes (editor plugins such as Continue send up to 16
    /// for a FIM template; OpenAI's 4 would refuse them).
    public init(
        maxMessageBytes: Int = 1 << 20, maxPromptBytes: Int = 256 << 10, maxTokens: Int = 4096,
        maxStopSequences: Int = 16, maxStopBytes: Int = 256, maxIDBytes: Int = 128, maxStrategyBytes: Int = 64
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxPromptBytes = maxPromptBytes
        self.maxTokens = maxTokens
        self.maxStopSequences = maxStopSequences
        self.maxStopBytes = maxStopBytes
        self.maxIDBytes = maxIDBytes
        self.maxStrategyBytes = maxStrategyBytes
    }

    /// The defaults.
    public static let standard = ClientAPILimits()
}

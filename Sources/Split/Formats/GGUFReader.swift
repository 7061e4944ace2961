/// A GGUF model file (versions 2 and 3), memory-mapped: its metadata, its tensor table, and
/// views of the tensors' bytes. Everything read from the file is checked before it is used.
public final class GGUFFile: WeightStore {
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// Every metadata entry, by key (long arrays decoded from the mapping on each access; use
    /// `value(forKey:)` or the typed accessors to read one entry).
    public var metadata: [String: GGUFValue] { entries.compactMapValues(decode) }
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Every tensor, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Offset in the file where tensor data begins.
    public let dataOffset: Int
    private let file: MappedFile
    private let tensorIndex: [String: Int]
    private let entries: [String: MetadataEntry]
    private let limits: GGUFLimits

    /// A metadata value, or where a long array lies in the mapping. A vocabulary and its merges
    /// are ~100 K strings: decoded once into a tokenizer they need not also stay in memory as
    /// `GGUFValue`s (24 bytes each plus the longer strings) for as long as the file is open.
    private enum MetadataEntry {
        case value(GGUFValue)
        /// `count` elements of `type` starting at `offset` (checked when the file was opened).
        case mapped(type: GGUFValueType, count: Int, offset: Int)
    }

    /// Arrays at least this long stay in the mapping until read.
    static let mappedArrayLength = 1024

    /// The metadata entry `key`, if present.
    public func value(forKey key: String) -> GGUFValue? { entries[key].flatMap(decode) }

    private func decode(_ entry: MetadataEntry) -> GGUFValue? {
        switch entry {
        case let .value(value):
            return value
        case let .mapped(type, count, offset):
            // Every element was read successfully when the file was opened, and the mapping is
            // read-only: this cannot fail short of the file changing underneath the mapping.
            var cursor = GGUFCursor(bytes: file.bytes, limits: limits, offset: offset)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                guard let element = try? cursor.readValue(of: type, depth: 1) else { return nil }
                elements.append(element)
            }
            return .array(type, elements)
        }
    }

    /// Drops the resident pages of the metadata and tensor table (everything before the tensor
    /// data) once what is needed from them has been read; later reads map them back.
    @discardableResult
    public func releaseMetadataPages() -> Int { file.releasePages(before: dataOffset) }

    /// The alignment GGUF uses when `general.alignment` is absent.
    public static let defaultAlignment = 32

    /// Maps and parses the GGUF file at `path`.
    /// - Throws: `MappedFileError` when the file cannot be opened, `GGUFError` when it is malformed.
    public convenience init(path: String, limits: GGUFLimits = .standard) throws {
        try self.init(file: try MappedFile(path: path), limits: limits)
    }

    /// Parses an already mapped GGUF file.
    /// - Throws: `GGUFError` naming what is malformed and where.
    public init(file: MappedFile, limits: GGUFLimits = .standard) throws {
        self.file = file
        self.limits = limits
        var cursor = GGUFCursor(bytes: file.bytes, limits: limits)
        let magic = try cursor.read(UInt32.self)
        guard magic == 0x4655_4747 else { throw GGUFError.badMagic(found: magic) }
        version = try cursor.read(UInt32.self)
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        // Minimum sizes: a tensor info is at least name length (8) + dims count (4) + type (4) + offset (8).
        let tensorCount = try cursor.readCount("tensor count", limit: limits.maxTensorCount, minimumSize: 24)
        // A metadata entry is at least key length (8) + type (4) + one byte of value.
        let metadataCount = try cursor.readCount("metadata count", limit: limits.maxMetadataCount, minimumSize: 13)

        var entries: [String: MetadataEntry] = [:]
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for _ in 0..<metadataCount {
            let key = try cursor.readString()
            let entry: MetadataEntry
            let type = try cursor.readValueType()
            if type == .array, let array = try cursor.skipLongArray(minimumLength: Self.mappedArrayLength) {
                entry = .mapped(type: array.type, count: array.count, offset: array.offset)
            } else {
                entry = .value(try cursor.readValue(of: type))
            }
            guard entries.updateValue(entry, forKey: key) == nil else { throw GGUFError.duplicateKey(key) }
            keys.append(key)
        }
        self.entries = entries
        metadataKeys = keys

        var alignment = Self.defaultAlignment
        if case let .value(value)? = entries["general.alignment"] {
            guard let declared = value.intValue, declared > 0, declared <= limits.maxAlignment,
                declared & (declared - 1) == 0
            else { throw GGUFError.invalidAlignment(value.intValue ?? -1) }
            alignment = declared
        }
        self.alignment = alignment

        var rawTensors: [(name: String, dimensions: [Int], typeCode: UInt32, offset: UInt64)] = []
        rawTensors.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        for position in 0..<tensorCount {
            let name = try cursor.readString()
            let dimensionCount = try cursor.read(UInt32.self)
            guard dimensionCount <= UInt32(limits.maxDimensions) else {
                throw GGUFError.limitExceeded(
                    what: "dimension count of tensor '\(name)'", value: UInt64(dimensionCount),
                    limit: UInt64(limits.maxDimensions))
            }
            var rawDimensions: [UInt64] = []
            for _ in 0..<dimensionCount { rawDimensions.append(try cursor.read(UInt64.self)) }
            let dimensions = try Self.checkedDimensions(rawDimensions, name: name)
            let typeCode = try cursor.read(UInt32.self)
            let offset = try cursor.read(UInt64.self)
            guard index.updateValue(position, forKey: name) == nil else { throw GGUFError.duplicateTensor(name: name) }
            rawTensors.append((name, dimensions, typeCode, offset))
        }
        tensorIndex = index

        // Tensor data starts at the next multiple of the alignment after the tensor table.
        let padded = cursor.offset.addingReportingOverflow(alignment - 1)
        let dataOffset = padded.overflow ? Int.max : padded.partialValue / alignment * alignment
        self.dataOffset = dataOffset
        let fileSize = file.size
        tensors = try rawTensors.map { raw in
            try Self.locate(raw, dataOffset: dataOffset, alignment: alignment, fileSize: fileSize)
        }
        file.adviseHugePages(from: dataOffset)  // the tensors; the header stays in small pages
    }

    /// Rejects zero, negative-when-signed and overflowing dimensions.
    private static func checkedDimensions(_ raw: [UInt64], name: String) throws -> [Int] {
        var elementCount = 1
        var dimensions: [Int] = []
        for value in raw {
            guard value > 0, let dimension = Int(exactly: value) else {
                throw GGUFError.invalidShape(name: name, dimensions: raw, reason: "every dimension must be positive")
            }
            let product = elementCount.multipliedReportingOverflow(by: dimension)
            guard !product.overflow else {
                throw GGUFError.invalidShape(name: name, dimensions: raw, reason: "element count overflows")
            }
            elementCount = product.partialValue
            dimensions.append(dimension)
        }
        return dimensions
    }

    /// Works out the absolute position and size of a tensor's data and checks it lies in the file.
    private static func locate(
        _ raw: (name: String, dimensions: [Int], typeCode: UInt32, offset: UInt64),
        dataOffset: Int, alignment: Int, fileSize: Int
    ) throws -> GGUFTensorInfo {
        let rawDimensions = raw.dimensions.map { UInt64($0) }
        guard let relative = Int(exactly: raw.offset), case let (absolute, false) = dataOffset.addingReportingOverflow(relative)
        else {
            throw GGUFError.tensorOutOfBounds(name: raw.name, offset: Int.max, size: 0, fileSize: fileSize)
        }
        guard relative % alignment == 0 else {
            throw GGUFError.misalignedTensor(name: raw.name, offset: relative, alignment: alignment)
        }
        var byteCount: Int?
        if let type = GGMLType.named(code: raw.typeCode) {
            let elementCount = raw.dimensions.reduce(1, *)
            guard let size = type.byteCount(rowLength: raw.dimensions.first ?? 1, elementCount: elementCount) else {
                throw GGUFError.invalidShape(
                    name: raw.name, dimensions: rawDimensions,
                    reason: "rows must be whole blocks of \(type.blockSize) values for type \(type.name)")
            }
            byteCount = size
        }
        let end = absolute.addingReportingOverflow(byteCount ?? 0)
        guard !end.overflow, end.partialValue <= fileSize else {
            throw GGUFError.tensorOutOfBounds(name: raw.name, offset: absolute, size: byteCount ?? 0, fileSize: fileSize)
        }
        return GGUFTensorInfo(
            name: raw.name, dimensions: raw.dimensions, typeCode: raw.typeCode,
            fileOffset: absolute, byteCount: byteCount)
    }

    // MARK: - Tensors

    /// Names of every tensor, in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// The table entry for `name`, or nil.
    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// A view of the tensor called `name`.
    /// - Throws: `GGUFError.missingTensor`, or `.unsupportedTensorType` naming its ggml type.
    public func weight(_ name: String) throws -> WeightView {
        guard let info = tensorInfo(name) else { throw GGUFError.missingTensor(name) }
        guard let type = info.weightType, let byteCount = info.byteCount else {
            throw GGUFError.unsupportedTensorType(name: name, typeCode: info.typeCode, typeName: info.typeName)
        }
        let bytes = try file.slice(offset: info.fileOffset, count: byteCount)
        return WeightView(name: name, shape: info.shape, type: type, bytes: bytes, owner: file)
    }

    /// The tensors whose types Split cannot load (empty when every tensor can be loaded).
    public var unsupportedTensors: [GGUFTensorInfo] { tensors.filter { $0.weightType == nil } }

    /// Checks that every tensor has a type Split can load.
    /// - Throws: `GGUFError.unsupportedTensorTypes` counting the tensors of each unsupported type.
    public func validateTensorTypes() throws {
        let unsupported = unsupportedTensors
        guard let first = unsupported.first else { return }
        var counts: [String: Int] = [:]
        for info in unsupported { counts[info.typeName, default: 0] += 1 }
        throw GGUFError.unsupportedTensorTypes(counts: counts, firstName: first.name)
    }
}

/// What a scan found at one path.
struct Slot {
    enum Kind: UInt8 { case missing, null, boolean, number, string, object, array }
    var kind: Kind = .missing
    /// For strings: the text between the quotes; for numbers, objects and arrays: the raw text.
    var start: Int = 0
    var end: Int = 0
    /// booleans: 1 for true; numbers: 1 when integral (no fraction or exponent);
    /// strings: 1 when the text has escapes; arrays: the element count.
    var extra: Int = 0

    static let missing = Slot()
}

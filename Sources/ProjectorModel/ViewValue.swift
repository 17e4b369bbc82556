/// A cell of a view row, in the storage classes every view store supports.
///
/// The plan converts values to the column's storage class before a row leaves it: `boolean`
/// columns hold `.integer(0)` or `.integer(1)`, `json` columns hold the value's JSON text.
public enum ViewValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A double-precision real.
    case real(Double)
    /// UTF-8 text.
    case text(String)
}

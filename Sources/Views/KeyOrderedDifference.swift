package import ProjectorModel

/// The keys of two row streams, each ordered by key (``ViewValue/order(_:_:)``, the order SQLite
/// and PostgreSQL return them in), present in one only or whose rows differ in any cell: what
/// `projector verify` reports, computed by one merge whichever stores the rows come from.
///
/// - Parameters:
///   - keyColumns: the positions of the key's columns in a row.
///   - limit: the most keys returned; the merge stops there.
///   - left, right: the next row of each stream, nil at its end.
package func keyOrderedDifference(
    keyColumns: [Int], limit: Int, left: () throws -> [ViewValue]?, right: () throws -> [ViewValue]?
) rethrows -> [[ViewValue]] {
    let keyOf = { (row: [ViewValue]) in keyColumns.map { row[$0] } }
    var differing: [[ViewValue]] = []
    var a = try left()
    var b = try right()
    while differing.count < limit {
        switch (a, b) {
        case (nil, nil):
            return differing
        case (let row?, nil):
            differing.append(keyOf(row))
            a = try left()
        case (nil, let row?):
            differing.append(keyOf(row))
            b = try right()
        case (let rowA?, let rowB?):
            let order = ViewValue.order(keyOf(rowA), keyOf(rowB))
            if order < 0 {
                differing.append(keyOf(rowA))
                a = try left()
            } else if order > 0 {
                differing.append(keyOf(rowB))
                b = try right()
            } else {
                if rowA.map(\.canonical) != rowB.map(\.canonical) { differing.append(keyOf(rowA)) }
                a = try left()
                b = try right()
            }
        }
    }
    return differing
}

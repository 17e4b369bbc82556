/// The closest candidate to `word` by edit distance (insertions, deletions, substitutions and
/// adjacent transpositions), when it is close enough to be a likely typo.
func didYouMean(_ word: String, among candidates: [String]) -> String? {
    let a = Array(word.unicodeScalars)
    var best: (String, Int)?
    for candidate in candidates where candidate != word {
        let b = Array(candidate.unicodeScalars)
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        if !a.isEmpty && !b.isEmpty {
            for i in 1...a.count {
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                        d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                    }
                }
            }
        }
        let distance = d[a.count][b.count]
        if distance <= Swift.max(1, Swift.min(a.count, b.count) / 3), best == nil || distance < best!.1 {
            best = (candidate, distance)
        }
    }
    return best?.0
}

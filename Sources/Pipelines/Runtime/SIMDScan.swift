#if arch(x86_64) && !SCANNER_SWAR
import _Builtin_intrinsics.intel

/// Tests on sixteen bytes at a time with SSE2, which every x86-64 processor has: one compare per
/// byte class and one `pmovmskb` give a 16-bit mask, bit `i` for byte `i`, exact in every bit
/// (unlike `SWAR`'s flags, which are exact only up to the first). Callers load only where sixteen
/// bytes remain and go on with `SWAR`'s words for a message's last fifteen bytes. Other
/// architectures, and builds with `-D SCANNER_SWAR`, scan with `SWAR` alone.
enum Bytes16 {
    /// The sixteen bytes at `p` (all of them inside the message).
    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>) -> __m128i {
        _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
    }

    /// The bytes of `v` equal to `byte`.
    @inline(__always)
    static func equal(_ v: __m128i, _ byte: UInt8) -> UInt32 {
        UInt32(bitPattern: _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(CChar(bitPattern: byte)))))
    }

    /// The bytes of `v` equal to those of the little-endian words `low` (bytes 0–7) and `high` (8–15).
    @inline(__always)
    static func equal(_ v: __m128i, _ low: UInt64, _ high: UInt64) -> UInt32 {
        UInt32(bitPattern: _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set_epi64x(Int64(bitPattern: high), Int64(bitPattern: low)))))
    }

    /// What ends a run of plain string text, as `SWAR.stringStops` flags it: `"`, `\`, a control
    /// byte and a byte of 0x80 or more (both below 0x20 as signed bytes: one `pcmpgtb`).
    @inline(__always)
    static func stringStops(_ v: __m128i) -> UInt32 {
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22))
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C))
        let low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))
        return UInt32(bitPattern: _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low)))
    }

    /// The ASCII digits of `v` (bytes of 0x80 or more are negative, so below `0`).
    @inline(__always)
    static func digits(_ v: __m128i) -> UInt32 {
        let above = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x2F))
        let below = _mm_cmplt_epi8(v, _mm_set1_epi8(0x3A))
        return UInt32(bitPattern: _mm_movemask_epi8(_mm_and_si128(above, below)))
    }

    /// The `"` and `\` bytes of `v`: where a validated string may end.
    @inline(__always)
    static func quotesOrBackslashes(_ v: __m128i) -> UInt32 {
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22))
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C))
        return UInt32(bitPattern: _mm_movemask_epi8(_mm_or_si128(quote, backslash)))
    }
}
#endif

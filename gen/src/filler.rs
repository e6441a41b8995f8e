//! Deterministic filler bytes (random-looking, reproducible): TLS randoms, encrypted record
//! bodies, key shares. SplitMix64, seeded by the caller, so two runs give the same bytes.

/// A SplitMix64 stream. Not cryptographic: it only has to look random in a capture and be
/// the same on every run.
#[derive(Debug, Clone)]
pub struct Filler {
    state: u64,
}

impl Filler {
    /// A stream for this seed.
    pub fn new(seed: u64) -> Self {
        Filler { state: seed }
    }

    /// A stream for a seed and a label, so different uses of one seed do not repeat bytes.
    pub fn labelled(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, mixed into the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Filler::new(seed ^ h)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_be_bytes());
        }
        out.truncate(n);
        out
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// Uniform in `lo..=hi` (`lo <= hi`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Roughly log-uniform in `lo..=hi` (many small values, few large ones).
    pub fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((l + (h - l) * unit).exp() as u64).clamp(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_labels_differ() {
        assert_eq!(Filler::new(7).bytes(33), Filler::new(7).bytes(33));
        assert_ne!(Filler::new(7).bytes(16), Filler::new(8).bytes(16));
        assert_ne!(
            Filler::labelled(7, "a").bytes(16),
            Filler::labelled(7, "b").bytes(16)
        );
        assert_eq!(Filler::new(1).bytes(5).len(), 5);
    }
}

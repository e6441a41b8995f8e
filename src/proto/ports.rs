//! A set of ports as a 65,536-bit bitmap: membership is one load and a mask, whatever the
//! number of ports configured (the collector asks on every packet).

/// TCP ports of clear-text SCCP (Skinny), where phones register to CUCM: 2000.
pub const SCCP_PORTS: [u16; 1] = [super::sccp::SCCP_PORT];

/// Ports, one bit each.
#[derive(Clone)]
pub struct PortSet {
    bits: Box<[u64; 1024]>,
}

impl PortSet {
    /// The set of the given ports (duplicates are harmless).
    pub fn new(ports: &[u16]) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for &p in ports {
            // 65,536 bits in 1,024 words: `p >> 6` is always in range.
            if let Some(w) = bits.get_mut(usize::from(p >> 6)) {
                *w |= 1 << (p & 63);
            }
        }
        PortSet { bits }
    }

    /// Whether `port` is in the set.
    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        self.bits
            .get(usize::from(port >> 6))
            .is_some_and(|w| w & (1 << (port & 63)) != 0)
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ports = (0..=u16::MAX).filter(|&p| self.contains(p));
        f.debug_set().entries(ports).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_matches_the_list() {
        let list = [0u16, 1, 63, 64, 69, 443, 2445, 6970, 65535];
        let set = PortSet::new(&list);
        for p in 0..=u16::MAX {
            assert_eq!(set.contains(p), list.contains(&p), "port {p}");
        }
        assert!(!PortSet::new(&[]).contains(0));
    }
}

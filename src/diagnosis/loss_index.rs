//! Which losses and TLS aggregates of the protocol stage concern which address: built once
//! per diagnosis by the grouping ([`super::phone`]) and read by [`super::losses`].

use crate::evidence::Evidence;
use std::collections::HashMap;
use std::net::IpAddr;

/// Which losses and TLS aggregates concern which address: built once per diagnosis, so that
/// each phone looks only at its own (every phone against every aggregate grows with their
/// product).
#[derive(Debug, Default)]
pub struct LossIndex {
    /// By client address: indices into `Evidence::losses` and `Evidence::tls_aggregates`.
    by_ip: HashMap<IpAddr, Concerns, foldhash::fast::RandomState>,
    /// Losses no address could be given for: they concern every phone.
    unattributed: Vec<usize>,
    /// Entries indexed (a count of work, not time).
    work: u64,
}

/// What concerns one address, as indices in evidence order.
#[derive(Debug, Default)]
struct Concerns {
    losses: Vec<usize>,
    aggregates: Vec<usize>,
}

impl LossIndex {
    /// Indexes the losses and aggregates of `evidence` by client address.
    pub fn of(evidence: &Evidence) -> Self {
        let mut index = LossIndex::default();
        for (i, loss) in evidence.losses.iter().enumerate() {
            index.work += 1;
            match loss.client {
                Some(ip) => index.by_ip.entry(ip).or_default().losses.push(i),
                None => index.unattributed.push(i),
            }
        }
        for (k, agg) in evidence.tls_aggregates.iter().enumerate() {
            for &ip in &agg.clients {
                index.work += 1;
                let concerns = index.by_ip.entry(ip).or_default();
                if concerns.aggregates.last() != Some(&k) {
                    concerns.aggregates.push(k);
                }
            }
        }
        index
    }

    /// The losses (its addresses' and the unattributed ones) and the aggregates that concern
    /// a phone with these addresses, as indices in evidence order.
    pub fn of_phone(&self, ips: &[IpAddr]) -> (Vec<usize>, Vec<usize>) {
        let mut losses = self.unattributed.clone();
        let mut aggregates = Vec::new();
        for ip in ips {
            if let Some(c) = self.by_ip.get(ip) {
                losses.extend_from_slice(&c.losses);
                aggregates.extend_from_slice(&c.aggregates);
            }
        }
        losses.sort_unstable();
        losses.dedup();
        aggregates.sort_unstable();
        aggregates.dedup();
        (losses, aggregates)
    }

    /// Entries indexed (a count of work, not time).
    pub fn work(&self) -> u64 {
        self.work
    }
}

//! A bounded log of what limits and evictions cost, by client host and server port, so the
//! diagnosis can tell a phone "TVS evidence may be missing: N connections were not
//! followed" next to the check concerned.

use crate::evidence::{EvidenceLoss, LossReason, Seen};
use std::collections::HashMap;
use std::net::IpAddr;

/// (client, server port, reason) entries kept; further ones are summed per reason and port
/// with no client (a loss that may concern any phone).
pub const MAX_LOSS_ENTRIES: usize = 4096;

type Key = (Option<IpAddr>, u16, LossReason);

/// Losses so far.
#[derive(Debug, Default)]
pub struct LossLog {
    entries: HashMap<Key, EvidenceLoss, foldhash::fast::RandomState>,
}

impl LossLog {
    /// Counts one loss of `client` to `server_port`.
    pub fn add(&mut self, client: Option<IpAddr>, server_port: u16, reason: LossReason, at: Seen) {
        self.add_n(client, server_port, reason, 1, at);
    }

    /// Counts `n` losses.
    pub fn add_n(
        &mut self,
        client: Option<IpAddr>,
        server_port: u16,
        reason: LossReason,
        n: u64,
        at: Seen,
    ) {
        if n == 0 {
            return;
        }
        let mut key = (client, server_port, reason);
        if !self.entries.contains_key(&key) && self.entries.len() >= MAX_LOSS_ENTRIES {
            key.0 = None;
        }
        self.entries
            .entry(key)
            .or_insert_with(|| EvidenceLoss {
                client: key.0,
                server_port,
                reason,
                count: 0,
                first: at,
            })
            .count += n;
    }

    /// Counts one loss of a host not known as a phone: only when it can be listed under its
    /// own address (a flood of other hosts' losses must not read as a phone's).
    pub fn add_if_listed(
        &mut self,
        client: IpAddr,
        server_port: u16,
        reason: LossReason,
        at: Seen,
    ) {
        let key = (Some(client), server_port, reason);
        if self.entries.contains_key(&key) || self.entries.len() < MAX_LOSS_ENTRIES {
            self.add(Some(client), server_port, reason, at);
        }
    }

    /// The losses, by client, port and reason.
    pub fn into_vec(self) -> Vec<EvidenceLoss> {
        let mut v: Vec<EvidenceLoss> = self.entries.into_values().collect();
        v.sort_by_key(|l| (l.client, l.server_port, l.reason));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_summed_and_bounded() {
        let mut log = LossLog::default();
        let at = Seen::default();
        for i in 0..(MAX_LOSS_ENTRIES as u32 + 10) {
            let ip = IpAddr::from(i.to_be_bytes());
            log.add(Some(ip), 443, LossReason::FlowTableFull, at);
            log.add(Some(ip), 443, LossReason::FlowTableFull, at);
        }
        let v = log.into_vec();
        assert_eq!(v.len(), MAX_LOSS_ENTRIES + 1);
        let unlisted = v.iter().find(|l| l.client.is_none()).expect("summed entry");
        assert_eq!(unlisted.count, 20);
        assert!(
            v.iter()
                .filter(|l| l.client.is_some())
                .all(|l| l.count == 2)
        );
    }
}

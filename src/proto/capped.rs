//! A list that keeps at most a fixed number of records and counts the rest, so the evidence
//! of a capture stays bounded however many transfers, sessions or alarms it holds (a SPAN
//! of a busy VLAN, or a crafted capture of a million connection attempts).

use crate::evidence::{
    FileTransfer, PhoneTrustAlarm, SccpRegistration, SipRegistration, TlsSession,
};

/// A record that knows the frame it starts at, so a list can say where the first record it
/// did not keep was (the `first_frame` of its limit event).
pub trait Framed {
    /// The record's first frame, when known.
    fn frame(&self) -> Option<u64> {
        None
    }
}

impl Framed for FileTransfer {
    fn frame(&self) -> Option<u64> {
        Some(self.first.frame)
    }
}

impl Framed for TlsSession {
    fn frame(&self) -> Option<u64> {
        Some(self.first.frame)
    }
}

impl Framed for PhoneTrustAlarm {
    fn frame(&self) -> Option<u64> {
        Some(self.seen.frame)
    }
}

impl Framed for SccpRegistration {
    fn frame(&self) -> Option<u64> {
        Some(self.seen.frame)
    }
}

impl Framed for SipRegistration {
    fn frame(&self) -> Option<u64> {
        Some(self.seen.frame)
    }
}

/// At most `max` items; further ones are counted, not kept.
#[derive(Debug, Clone)]
pub struct Capped<T> {
    items: Vec<T>,
    max: usize,
    dropped: u64,
    /// The earliest first frame among the items not kept.
    first_dropped: Option<u64>,
}

impl<T: Framed> Capped<T> {
    /// An empty list keeping at most `max` items.
    pub fn new(max: usize) -> Self {
        Capped {
            items: Vec::new(),
            max,
            dropped: 0,
            first_dropped: None,
        }
    }

    /// Keeps `item` if there is room, else counts it.
    pub fn push(&mut self, item: T) {
        if self.items.len() < self.max {
            self.items.push(item);
        } else {
            self.dropped += 1;
            if let Some(f) = item.frame() {
                self.first_dropped = Some(self.first_dropped.map_or(f, |d| d.min(f)));
            }
        }
    }

    /// The earliest first frame of the items not kept (None: none dropped, or not known).
    pub fn first_dropped(&self) -> Option<u64> {
        self.first_dropped
    }

    /// True when a further item would be counted, not kept.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.max
    }

    /// [`Capped::push`] for each item.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.push(item);
        }
    }

    /// The items kept so far, in the order they came (for `--follow`, mid-capture).
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The kept items and how many were dropped.
    pub fn into_parts(self) -> (Vec<T>, u64) {
        (self.items, self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::{Capped, Framed};

    impl Framed for i32 {
        fn frame(&self) -> Option<u64> {
            u64::try_from(*self).ok()
        }
    }

    #[test]
    fn keeps_the_first_and_counts_the_rest() {
        let mut list = Capped::new(3);
        list.extend(0..10);
        list.push(10);
        assert_eq!(list.first_dropped(), Some(3));
        assert_eq!(list.into_parts(), (vec![0, 1, 2], 8));
    }
}

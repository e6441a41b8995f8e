//! A list that keeps at most a fixed number of records and counts the rest, so the evidence
//! of a capture stays bounded however many transfers, sessions or alarms it holds (a SPAN
//! of a busy VLAN, or a crafted capture of a million connection attempts).

/// At most `max` items; further ones are counted, not kept.
#[derive(Debug, Clone)]
pub struct Capped<T> {
    items: Vec<T>,
    max: usize,
    dropped: u64,
}

impl<T> Capped<T> {
    /// An empty list keeping at most `max` items.
    pub fn new(max: usize) -> Self {
        Capped {
            items: Vec::new(),
            max,
            dropped: 0,
        }
    }

    /// Keeps `item` if there is room, else counts it.
    pub fn push(&mut self, item: T) {
        if self.items.len() < self.max {
            self.items.push(item);
        } else {
            self.dropped += 1;
        }
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
    use super::Capped;

    #[test]
    fn keeps_the_first_and_counts_the_rest() {
        let mut list = Capped::new(3);
        list.extend(0..10);
        list.push(10);
        assert_eq!(list.into_parts(), (vec![0, 1, 2], 8));
    }
}

//! One memory budget for the bytes a capture can make the tool hold: out-of-order TCP
//! segments, partial TLS records and handshake messages, and whatever else a parser keeps
//! while it waits for more input (issue 19, "one memory budget").
//!
//! A [`MemoryPool`] is shared by the captures read in parallel; each capture draws its own
//! [`MemoryBudget`] from it (the pool's size divided by the captures that run at once), so
//! the bound holds per capture and overall. Every growable buffer holds an [`Account`] and
//! sets through it how many bytes it keeps; a refused account keeps its old size and the
//! buffer gives up what it waited for (reported as a limit, never silently).
//!
//! Accounts carry a [`Worth`]. Bytes of flows that cannot matter to a phone's verdict are
//! counted as expendable, so that when a phone's TVS handshake or ITL download needs room
//! the owner of the flows (the TCP connection table) can evict those first
//! ([`eviction_order`]): the phone's evidence goes last.
//!
//! Counters are atomics because the decoder (IP fragments) and the collector of one
//! capture may run on two threads; a charge is taken only when a buffer grows, never per
//! byte, so they cost nothing on the bulk path.

use crate::events::{LimitEvent, TransportLimit};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The memory all captures read at once may hold in parser buffers.
#[derive(Debug)]
pub struct MemoryPool {
    cap: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryPool {
    /// A pool of `cap` bytes.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(MemoryPool {
            cap,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// The pool's size.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes held now by all captures.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Most bytes held at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if they fit.
    fn take(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = used.checked_add(n).filter(|t| *t <= self.cap) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }

    fn give(&self, n: usize) {
        // Saturating: a release never takes the counter below zero, even after a bug.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(n))
            });
    }

    /// A capture's budget of `cap` bytes drawn from this pool.
    pub fn budget(self: &Arc<Self>, cap: usize) -> MemoryBudget {
        MemoryBudget(Arc::new(Inner {
            pool: Arc::clone(self),
            cap: cap.min(self.cap),
            used: AtomicUsize::new(0),
            expendable: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            refused_phone: AtomicU64::new(0),
            first_refused_frame: AtomicU64::new(UNDATED),
        }))
    }
}

/// How much a buffer's bytes are worth to a phone's verdict; the lower, the sooner evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Worth {
    /// A flow of a host not known as a phone, to a port that is not a phone's (web
    /// browsing, scans): expendable.
    #[default]
    Other,
    /// A phone's flow or a phone port (TVS 2445, the HTTP/TFTP file ports, SIP): the
    /// phone's evidence, evicted last.
    Phone,
}

#[derive(Debug)]
struct Inner {
    pool: Arc<MemoryPool>,
    cap: usize,
    used: AtomicUsize,
    /// Of `used`, bytes held by accounts worth [`Worth::Other`].
    expendable: AtomicUsize,
    peak: AtomicUsize,
    refused: AtomicU64,
    refused_phone: AtomicU64,
    /// The frame the first refusal was dated at ([`MemoryBudget::date_refusals`]), or
    /// [`UNDATED`].
    first_refused_frame: AtomicU64,
}

/// No refusal dated yet (frame numbers never reach it).
const UNDATED: u64 = u64::MAX;

/// One capture's memory budget; cloning gives another handle to the same budget.
#[derive(Debug, Clone)]
pub struct MemoryBudget(Arc<Inner>);

impl Default for MemoryBudget {
    /// An unlimited budget of its own (unit tests, callers that set no limit).
    fn default() -> Self {
        MemoryPool::new(usize::MAX).budget(usize::MAX)
    }
}

impl MemoryBudget {
    /// A budget of `cap` bytes with a pool of its own (one capture read alone).
    pub fn new(cap: usize) -> Self {
        MemoryPool::new(cap).budget(cap)
    }

    /// The budget's size.
    pub fn cap(&self) -> usize {
        self.0.cap
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }

    /// Bytes free now (within this capture's share and the pool).
    pub fn free(&self) -> usize {
        let own = self.0.cap.saturating_sub(self.used());
        own.min(self.0.pool.cap.saturating_sub(self.0.pool.used()))
    }

    /// Bytes held now by flows worth [`Worth::Other`]: what eviction can give back.
    pub fn expendable(&self) -> usize {
        self.0.expendable.load(Ordering::Relaxed)
    }

    /// Most bytes held at once so far.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::Relaxed)
    }

    /// Times a buffer could not grow because the budget was spent, and how many of those
    /// were the phone's evidence.
    pub fn refusals(&self) -> (u64, u64) {
        (
            self.0.refused.load(Ordering::Relaxed),
            self.0.refused_phone.load(Ordering::Relaxed),
        )
    }

    /// Dates the first refusal at `frame` if there was one and it is not dated yet. The
    /// collector calls it after each packet, so a refusal by one of its parsers is dated at
    /// the packet that caused it. Refusals are counted without a frame (an [`Account`] does
    /// not know which packet grows it), so one made by IP reassembly on the decoder's thread
    /// is dated at the packet the collector is taking when it sees it: a few frames late at
    /// most, by the depth of the queue between the threads.
    pub fn date_refusals(&self, frame: u64) {
        let inner = &*self.0;
        if inner.first_refused_frame.load(Ordering::Relaxed) == UNDATED
            && inner.refused.load(Ordering::Relaxed) > 0
        {
            // Only the first date stands.
            let _ = inner.first_refused_frame.compare_exchange(
                UNDATED,
                frame,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// The frame the first refusal was dated at, if one was ([`MemoryBudget::date_refusals`]).
    pub fn first_refusal_frame(&self) -> Option<u64> {
        Some(self.0.first_refused_frame.load(Ordering::Relaxed)).filter(|f| *f != UNDATED)
    }

    /// A new account holding nothing yet.
    pub fn account(&self, worth: Worth) -> Account {
        Account {
            budget: Some(self.clone()),
            worth,
            held: 0,
        }
    }

    fn take(&self, n: usize, worth: Worth) -> bool {
        let inner = &*self.0;
        let mut used = inner.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = used.checked_add(n).filter(|t| *t <= inner.cap) else {
                return self.refuse(worth);
            };
            match inner
                .used
                .compare_exchange_weak(used, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => used = now,
            }
        }
        if !inner.pool.take(n) {
            inner.used.fetch_sub(n, Ordering::Relaxed);
            return self.refuse(worth);
        }
        inner
            .peak
            .fetch_max(inner.used.load(Ordering::Relaxed), Ordering::Relaxed);
        if worth == Worth::Other {
            inner.expendable.fetch_add(n, Ordering::Relaxed);
        }
        true
    }

    fn refuse(&self, worth: Worth) -> bool {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
        if worth == Worth::Phone {
            self.0.refused_phone.fetch_add(1, Ordering::Relaxed);
        }
        false
    }

    fn give(&self, n: usize, worth: Worth) {
        let inner = &*self.0;
        let _ = inner
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(n))
            });
        if worth == Worth::Other {
            let _ = inner
                .expendable
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                    Some(u.saturating_sub(n))
                });
        }
        inner.pool.give(n);
    }
}

/// The bytes one buffer holds, charged to a [`MemoryBudget`]; given back when dropped.
#[derive(Debug)]
pub struct Account {
    /// None: not bound to a budget yet, so unlimited. A parser is made before it is bound
    /// to its capture's budget, once per connection: leaving it unbound costs nothing,
    /// where an unlimited budget of its own cost two allocations (issue 19, tls-heavy).
    budget: Option<MemoryBudget>,
    worth: Worth,
    held: usize,
}

impl Default for Account {
    /// An account bound to no budget: unlimited until [`Account::rebind`].
    fn default() -> Self {
        Account {
            budget: None,
            worth: Worth::Phone,
            held: 0,
        }
    }
}

impl Account {
    /// Bytes held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// What the bytes are worth.
    pub fn worth(&self) -> Worth {
        self.worth
    }

    /// The cap of the budget this account is charged to (`usize::MAX` when unbound).
    pub fn cap(&self) -> usize {
        self.budget.as_ref().map_or(usize::MAX, MemoryBudget::cap)
    }

    /// Sets the bytes held to `total`. Shrinking always succeeds; growing is refused (the
    /// account keeps what it held, false) when the budget has no room for the difference.
    pub fn hold(&mut self, total: usize) -> bool {
        let Some(budget) = &self.budget else {
            self.held = total;
            return true;
        };
        if total <= self.held {
            budget.give(self.held - total, self.worth);
            self.held = total;
            return true;
        }
        if !budget.take(total - self.held, self.worth) {
            return false;
        }
        self.held = total;
        true
    }

    /// Whether `more` bytes on top of what is held would fit now (nothing is taken).
    pub fn fits(&self, more: usize) -> bool {
        self.budget.as_ref().is_none_or(|b| more <= b.free())
    }

    /// Re-rates the bytes held (a flow whose client turned out to be a phone).
    pub fn set_worth(&mut self, worth: Worth) {
        if worth == self.worth {
            return;
        }
        let held = self.held;
        let Some(budget) = &self.budget else {
            self.worth = worth;
            return;
        };
        let inner = &*budget.0;
        match worth {
            Worth::Other => {
                inner.expendable.fetch_add(held, Ordering::Relaxed);
            }
            Worth::Phone => {
                let _ = inner
                    .expendable
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                        Some(u.saturating_sub(held))
                    });
            }
        }
        self.worth = worth;
    }

    /// Moves this account to `budget` (a parser made before the capture's budget was
    /// known). Whatever it held stays charged to the old budget until released, so it is
    /// released first.
    pub fn rebind(&mut self, budget: &MemoryBudget) {
        self.hold(0);
        self.budget = Some(budget.clone());
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        self.hold(0);
    }
}

/// One buffer holder the budget could evict: its key, what it is worth, when it was last
/// touched (lower = older) and the bytes it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<K> {
    /// The holder (a connection key).
    pub key: K,
    /// What its bytes are worth.
    pub worth: Worth,
    /// Last activity, in any unit where older is smaller.
    pub touched: i64,
    /// Bytes it holds.
    pub held: usize,
}

/// Which holders to evict to free `need` bytes: only those worth [`Worth::Other`] (the
/// phone's evidence is never evicted for room), the oldest first, stopping as soon as
/// enough is freed. Empty when nothing expendable holds bytes.
pub fn eviction_order<K: Copy>(mut candidates: Vec<Candidate<K>>, need: usize) -> Vec<K> {
    candidates.retain(|c| c.worth == Worth::Other && c.held > 0);
    candidates.sort_unstable_by_key(|c| c.touched);
    let mut freed = 0usize;
    let mut out = Vec::new();
    for c in candidates {
        if freed >= need {
            break;
        }
        freed = freed.saturating_add(c.held);
        out.push(c.key);
    }
    out
}

/// The budget's limits as typed events for the capture's `limits_hit` (worded in
/// `report::limits`): flows evicted for memory (`first_frame`: the first frame of the
/// first one) and buffers refused. Empty when nothing was cut.
pub fn limit_events(
    budget: &MemoryBudget,
    evicted: u64,
    first_frame: Option<u64>,
) -> Vec<LimitEvent> {
    let cap = u64::try_from(budget.cap()).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    if evicted > 0 {
        out.push(LimitEvent::Transport(TransportLimit::MemoryEvictions {
            count: evicted,
            budget: cap,
            first_frame,
        }));
    }
    let (refused, phones) = budget.refusals();
    if refused > 0 {
        out.push(LimitEvent::Transport(TransportLimit::MemoryRefusals {
            count: refused,
            phones,
            budget: cap,
            first_frame: budget.first_refusal_frame(),
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_is_dated_once_and_reaches_its_event() {
        // Issue 19: every limit event says where it happened.
        let budget = MemoryBudget::new(10);
        budget.date_refusals(3);
        assert_eq!(budget.first_refusal_frame(), None, "nothing refused yet");
        let mut a = budget.account(Worth::Phone);
        assert!(!a.hold(11));
        budget.date_refusals(4);
        assert!(!a.hold(12));
        budget.date_refusals(5);
        assert_eq!(budget.first_refusal_frame(), Some(4));
        let events = limit_events(&budget, 0, None);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].first_frame(), Some(4));
    }

    #[test]
    fn an_account_is_refused_past_the_cap_and_keeps_what_it_held() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.account(Worth::Phone);
        assert!(a.hold(60));
        let mut b = budget.account(Worth::Other);
        assert!(!b.hold(50));
        assert_eq!(b.held(), 0);
        assert!(b.hold(40));
        assert_eq!(budget.used(), 100);
        assert_eq!(budget.expendable(), 40);
        assert_eq!(budget.refusals(), (1, 0));
        drop(b);
        assert_eq!(budget.used(), 60);
        assert_eq!(budget.expendable(), 0);
        assert!(a.hold(10));
        assert_eq!(budget.used(), 10);
        assert_eq!(budget.peak(), 100);
    }

    #[test]
    fn captures_in_parallel_share_one_pool() {
        let pool = MemoryPool::new(150);
        let one = pool.budget(100);
        let two = pool.budget(100);
        let mut a = one.account(Worth::Phone);
        let mut b = two.account(Worth::Phone);
        assert!(a.hold(100));
        // Within its own share, but the pool has only 50 left.
        assert!(!b.hold(60));
        assert!(b.hold(50));
        assert_eq!(pool.used(), 150);
        drop(a);
        assert_eq!(pool.used(), 50);
        assert_eq!(pool.peak(), 150);
    }

    #[test]
    fn re_rating_moves_bytes_out_of_the_expendable_ones() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.account(Worth::Other);
        assert!(a.hold(30));
        a.set_worth(Worth::Phone);
        assert_eq!(budget.expendable(), 0);
        a.set_worth(Worth::Other);
        assert_eq!(budget.expendable(), 30);
    }

    /// Statement 29 concerns the phone's TVS exchange: the flows of other hosts go first,
    /// the oldest first, and a phone's flow is never chosen for room.
    #[test]
    fn the_budget_evicts_non_phone_flows_first_and_never_the_phones() {
        let c = |key, worth, touched, held| Candidate {
            key,
            worth,
            touched,
            held,
        };
        let candidates = vec![
            c(1, Worth::Phone, 0, 1000),
            c(2, Worth::Other, 5, 300),
            c(3, Worth::Other, 1, 300),
            c(4, Worth::Other, 2, 0),
            c(5, Worth::Other, 9, 300),
        ];
        assert_eq!(eviction_order(candidates.clone(), 500), vec![3, 2]);
        assert_eq!(eviction_order(candidates.clone(), 10_000), vec![3, 2, 5]);
        assert_eq!(
            eviction_order(vec![c(1, Worth::Phone, 0, 1000)], 10),
            Vec::<i32>::new()
        );
    }
}

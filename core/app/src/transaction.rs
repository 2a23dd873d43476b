//! One store transaction with **named conditions**: each conditional write that can fail for a
//! reason the use case cares about is pushed with that reason (a variant of the use case's own
//! conflict enum), so a failed condition comes back as the reason, never as a position.

use crate::events::Event;
use crate::ports::{Store, StoreError, Write};

/// How many times a use case re-reads and tries again after losing a condition race to a
/// concurrent request of the same account (each loss means another request committed). When
/// every try loses, the use case answers with whatever state the winners left: never a 500.
pub const RACE_RETRIES: usize = 8;

/// The writes of one transaction and what each named condition means.
pub struct Transaction<C> {
    writes: Vec<Write>,
    named: Vec<(usize, C)>,
}

impl<C: Copy> Default for Transaction<C> {
    fn default() -> Self {
        Transaction { writes: Vec::new(), named: Vec::new() }
    }
}

impl<C: Copy> Transaction<C> {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// A write whose condition (if any) failing is not one of the use case's conflicts: it
    /// surfaces as [`StoreError::ConditionFailed`].
    pub fn push(&mut self, write: Write) {
        self.writes.push(write);
    }

    /// A conditional write whose failure means `conflict`.
    pub fn guard(&mut self, write: Write, conflict: C) {
        self.named.push((self.writes.len(), conflict));
        self.writes.push(write);
    }

    /// Commits the writes and `events` atomically: `Ok(Err(conflict))` when a named condition
    /// failed (nothing was written).
    pub async fn commit(self, store: &dyn Store, events: Vec<Event>) -> Result<Result<(), C>, StoreError> {
        match store.transact(self.writes, events).await {
            Ok(()) => Ok(Ok(())),
            Err(StoreError::ConditionFailed { index }) => match self.named.iter().find(|(i, _)| *i == index) {
                Some((_, conflict)) => Ok(Err(*conflict)),
                None => Err(StoreError::ConditionFailed { index }),
            },
            Err(e) => Err(e),
        }
    }
}

//! Coalesced updates: a parent keeps only the newest desired state of each child in a
//! [`Latest`] slot and sends a content-free [`Kick`] with `try_send`. A full mailbox means
//! the child is already kicked and will read the slot, so a child's mailbox stays O(1)
//! whatever the watch rate, and nothing is ever fanned out with the unbounded `do_send`.

use std::sync::Arc;

use actix::prelude::*;
use parking_lot::Mutex;

/// "Your slot has something new"; carries nothing.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Kick;

/// The newest value for one child, shared between the parent (writer) and the child.
#[derive(Debug)]
pub struct Latest<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Latest<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(None)))
    }
}

impl<T> Latest<T> {
    /// Replaces whatever was waiting with `value`.
    pub fn put(&self, value: T) {
        *self.0.lock() = Some(value);
    }

    /// Takes the newest value, if one arrived since the last take.
    pub fn take(&self) -> Option<T> {
        self.0.lock().take()
    }
}

/// Puts `value` in the slot and kicks `recipient`. Returns false when the recipient's
/// mailbox is closed (the child is gone); a full mailbox counts as kicked.
pub fn deliver<T>(slot: &Latest<T>, value: T, recipient: &Recipient<Kick>) -> bool {
    slot.put(value);
    !matches!(recipient.try_send(Kick), Err(SendError::Closed(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_value_waits() {
        let slot = Latest::default();
        slot.put(1);
        slot.put(2);
        assert_eq!(slot.clone().take(), Some(2));
        assert_eq!(slot.take(), None);
    }
}

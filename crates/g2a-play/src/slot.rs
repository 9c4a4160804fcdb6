//! A one-place mailbox where the newest request replaces any older one.
//!
//! The UI thread puts decode requests; the decode worker takes them. While
//! the worker is busy, a scrub produces many requests: only the last one
//! matters, so a put replaces the request still waiting instead of queueing
//! behind it ("latest requested position wins"). The slot never holds more
//! than one value, whatever the rate of puts.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What a [`LatestSlot::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken<T> {
    /// The newest value put since the last take.
    Value(T),
    /// The wait timed out with nothing put.
    Empty,
    /// The slot was closed: the worker should stop.
    Closed,
}

#[derive(Debug)]
struct State<T> {
    value: Option<T>,
    closed: bool,
    /// Values replaced before anyone took them.
    replaced: u64,
}

/// The slot: share it between the producer and the consumer (`Arc`).
#[derive(Debug)]
pub(crate) struct LatestSlot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

impl<T> Default for LatestSlot<T> {
    fn default() -> Self {
        LatestSlot {
            state: Mutex::new(State {
                value: None,
                closed: false,
                replaced: 0,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<T> LatestSlot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding the lock leaves plain data: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `value`, replacing (dropping) any value not yet taken. Ignored
    /// once the slot is closed.
    pub(crate) fn put(&self, value: T) {
        let mut s = self.lock();
        if s.closed {
            return;
        }
        if s.value.replace(value).is_some() {
            s.replaced += 1;
        }
        drop(s);
        self.ready.notify_one();
    }

    /// Takes the newest value, waiting up to `timeout` for one.
    pub(crate) fn take(&self, timeout: Duration) -> Taken<T> {
        let mut s = self.lock();
        if s.value.is_none() && !s.closed {
            s = match self
                .ready
                .wait_timeout_while(s, timeout, |s| s.value.is_none() && !s.closed)
            {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
        match s.value.take() {
            Some(v) => Taken::Value(v),
            None if s.closed => Taken::Closed,
            None => Taken::Empty,
        }
    }

    /// Takes the newest value without waiting.
    pub(crate) fn try_take(&self) -> Option<T> {
        self.lock().value.take()
    }

    /// Closes the slot: the consumer's next take returns what is left, then
    /// [`Taken::Closed`].
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// How many values were replaced before being taken.
    pub(crate) fn replaced(&self) -> u64 {
        self.lock().replaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn newest_value_wins() {
        let slot = LatestSlot::default();
        for i in 0..100 {
            slot.put(i);
        }
        assert_eq!(slot.take(Duration::ZERO), Taken::Value(99));
        assert_eq!(slot.replaced(), 99);
        assert_eq!(slot.take(Duration::from_millis(1)), Taken::Empty);
        assert_eq!(slot.try_take(), None);
    }

    #[test]
    fn close_wakes_a_waiting_consumer_and_drops_later_puts() {
        let slot = Arc::new(LatestSlot::<u32>::default());
        let s2 = Arc::clone(&slot);
        let waiter = thread::spawn(move || s2.take(Duration::from_secs(30)));
        thread::sleep(Duration::from_millis(20));
        slot.close();
        assert_eq!(waiter.join().ok(), Some(Taken::Closed));
        slot.put(5);
        assert_eq!(slot.take(Duration::ZERO), Taken::Closed);
    }

    #[test]
    fn value_put_before_close_is_still_delivered() {
        let slot = LatestSlot::default();
        slot.put("last");
        slot.close();
        assert_eq!(slot.take(Duration::ZERO), Taken::Value("last"));
        assert_eq!(slot.take(Duration::ZERO), Taken::Closed);
    }

    #[test]
    fn a_busy_consumer_sees_only_the_latest_of_a_burst() {
        let slot = Arc::new(LatestSlot::default());
        let s2 = Arc::clone(&slot);
        let consumer = thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                match s2.take(Duration::from_secs(30)) {
                    Taken::Value(v) => {
                        seen.push(v);
                        // A slow decode.
                        thread::sleep(Duration::from_millis(5));
                    }
                    Taken::Empty => {}
                    Taken::Closed => return seen,
                }
            }
        });
        for i in 0..2000u32 {
            slot.put(i);
        }
        slot.close();
        let seen = consumer.join().unwrap_or_default();
        assert_eq!(seen.last(), Some(&1999));
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        // Far fewer values were taken than put.
        assert!(seen.len() < 2000);
    }
}

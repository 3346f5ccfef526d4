//! One value per rayon worker thread, created on first use: ONNX Runtime sessions take
//! `&mut self`, so each worker gets its own model and keeps it for the whole run (rayon's
//! `map_init` would re-create it for every work split).

use std::sync::Mutex;

/// Lazily created per-thread values for the current rayon pool.
pub struct PerThread<T> {
    slots: Vec<Mutex<Option<T>>>,
}

impl<T> PerThread<T> {
    /// Empty slots for every thread of the current rayon pool, plus one for callers outside it.
    pub fn new() -> Self {
        Self {
            slots: (0..=rayon::current_num_threads()).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Runs `f` with this thread's value, creating it with `init` first if needed. If `init`
    /// fails its error is returned and the next call tries again.
    ///
    /// # Errors
    /// The error of `init`.
    pub fn with<R, E>(&self, init: impl FnOnce() -> Result<T, E>, f: impl FnOnce(&mut T) -> R) -> Result<R, E> {
        let index = rayon::current_thread_index().map_or(self.slots.len() - 1, |i| i.min(self.slots.len() - 2));
        // a poisoned slot only means an earlier item panicked; its value is still usable
        let mut slot = self.slots[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut value = match slot.take() {
            Some(value) => value,
            None => init()?,
        };
        let result = f(&mut value);
        *slot = Some(value);
        Ok(result)
    }
}

impl<T> Default for PerThread<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_worker_initialises_once() {
        let created = AtomicUsize::new(0);
        let values = PerThread::new();
        let sum: usize = (0..1000)
            .into_par_iter()
            .map(|i| {
                values
                    .with(
                        || {
                            created.fetch_add(1, Ordering::SeqCst);
                            Ok::<usize, ()>(1)
                        },
                        |v| *v * i,
                    )
                    .unwrap()
            })
            .sum();
        assert_eq!(sum, 999 * 1000 / 2);
        assert!(created.load(Ordering::SeqCst) <= rayon::current_num_threads());
    }

    #[test]
    fn a_failed_init_is_retried() {
        let values: PerThread<u8> = PerThread::new();
        assert_eq!(values.with(|| Err("no"), |v| *v), Err("no"));
        assert_eq!(values.with(|| Ok::<u8, &str>(7), |v| *v), Ok(7));
    }
}

//! A registry of live Vulkan wrapper objects, for leak tests, with a failure-injection
//! hook for tests of partial set-up: compiled in only with the test-only cargo feature
//! `leak-registry`, which the crate's own tests turn on (a dev-dependency of the crate on
//! itself, in Cargo.toml). Without it [`Tracked`] is an empty token and costs nothing.
//!
//! Every RAII type in [`crate::vulkan`] holds a [`Tracked`] token, made before its first
//! Vulkan call and dropped with it. `live()` is then the number of wrapper objects alive
//! in the process, and `fail_after(n)` makes the n-th next token fail to be made, as if
//! that object's creation had failed, so that tests can check everything made before is
//! freed.

/// Counts one live object (with `leak-registry`); dropped with it.
#[derive(Debug)]
pub struct Tracked(());

#[cfg(feature = "leak-registry")]
mod registry {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::Tracked;

    static LIVE: AtomicI64 = AtomicI64::new(0);
    /// Tokens that may still be made before the injected failure; negative: no injection.
    static FAIL_COUNTDOWN: AtomicI64 = AtomicI64::new(-1);

    impl Tracked {
        /// Registers an object of kind `what`, or fails if a failure was injected here.
        pub fn new(what: &'static str) -> anyhow::Result<Self> {
            let left = FAIL_COUNTDOWN.load(Ordering::SeqCst);
            if left >= 0 {
                FAIL_COUNTDOWN.store(left - 1, Ordering::SeqCst);
                if left == 0 {
                    anyhow::bail!("injected failure creating {what} (test hook vulkan::live::fail_after)");
                }
            }
            LIVE.fetch_add(1, Ordering::SeqCst);
            Ok(Self(()))
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Wrapper objects alive now.
    pub fn live() -> i64 {
        LIVE.load(Ordering::SeqCst)
    }

    /// Makes the `n`-th next object creation fail (0: the very next); `None` turns it off.
    /// Process-wide: tests using it must not run concurrently with other Vulkan work.
    pub fn fail_after(n: Option<u64>) {
        FAIL_COUNTDOWN.store(n.map_or(-1, |n| n as i64), Ordering::SeqCst);
    }
}

#[cfg(feature = "leak-registry")]
pub use registry::{fail_after, live};

#[cfg(not(feature = "leak-registry"))]
impl Tracked {
    /// An empty token (the registry is compiled out).
    #[inline]
    pub fn new(_what: &'static str) -> anyhow::Result<Self> {
        Ok(Self(()))
    }
}

//! Where a request's time went, as a `Server-Timing` header
//! (<https://www.w3.org/TR/server-timing/>): each phase is the time since the previous mark.
//!
//! Production's clock advances only across I/O, so there a phase that is pure CPU reads 0 and
//! its time lands in the next phase with an `await`; the local runtime's clock runs freely, which
//! is where the benchmarks read it.

use crate::clock;

/// Phases of one request, in order
#[derive(Debug)]
pub(crate) struct PhaseTimer {
    started: u64,
    last: u64,
    phases: Vec<(&'static str, u64)>,
}

impl PhaseTimer {
    pub(crate) fn start() -> Self {
        let now = clock::now().0;
        Self {
            started: now,
            last: now,
            phases: Vec::new(),
        }
    }

    /// A timer whose first phase, `name`, took `ms` and ended now (measured before the timer
    /// could be started, e.g. before the request was handed on)
    pub(crate) fn after(name: &'static str, ms: u64) -> Self {
        let now = clock::now().0;
        Self {
            started: now.saturating_sub(ms),
            last: now,
            phases: vec![(name, ms)],
        }
    }

    /// Ends the phase `name` now
    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = clock::now().0;
        self.phases.push((name, now.saturating_sub(self.last)));
        self.last = now;
    }

    /// `name;dur=ms, ...` with a closing `total`
    pub(crate) fn header(&self) -> String {
        let mut out: Vec<String> = self
            .phases
            .iter()
            .map(|(name, ms)| format!("{name};dur={ms}"))
            .collect();
        out.push(format!(
            "total;dur={}",
            self.last.saturating_sub(self.started)
        ));
        out.join(", ")
    }
}

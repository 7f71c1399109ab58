//! The only place the Worker reads the time.

use studio::time::Timestamp;

/// Now, from the runtime's clock (`Date.now()`; the core never reads a clock)
pub(crate) fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis())
}

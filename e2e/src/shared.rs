//! One stack shared by the tests of a test binary, started on first use.
//!
//! Statics are never dropped, so the stack's watchdog stops it when the test process exits.

use std::sync::OnceLock;

use crate::stack::{Stack, StackOptions};

static SHARED: OnceLock<Result<Stack, String>> = OnceLock::new();

/// The shared stack of this test binary; panics with the start-up failure (tests only)
pub fn shared_stack() -> &'static Stack {
    shared_stack_with(StackOptions::default)
}

/// As [`shared_stack`], with options for the first start
pub fn shared_stack_with(options: impl FnOnce() -> StackOptions) -> &'static Stack {
    let started = SHARED.get_or_init(|| Stack::start_with(options()).map_err(|e| e.to_string()));
    match started {
        Ok(stack) => stack,
        Err(e) => {
            #[allow(clippy::panic)]
            {
                panic!("the stack did not start: {e}")
            }
        }
    }
}

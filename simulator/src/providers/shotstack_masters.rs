//! One master per shape (`SIM_MASTERS=per-shape`): the simulated Shotstack composes the first
//! edit of a frame, rate, length and poster time with ffmpeg, and serves that master to every
//! later edit of the same shape, whatever its sources.
//!
//! Why: in a load test on this machine, the masters of fifty renders composed two at a time
//! queue on its two cores, a capacity the real service does not share with the orchestrator
//! under test. The picture and score generators have the same mode (`SIM_MEDIA_VARIETY`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::OnceCell;

/// A composed master and its poster
pub(super) type Rendered = (Vec<u8>, Option<Vec<u8>>);

/// Shapes kept at most: past it an edit of a new shape is composed on its own, so a test of
/// many shapes holds at most this many masters
const MAX_SHAPES: usize = 32;

/// What makes two masters interchangeable in a load test: the frame, the rate, the length
/// and the poster's time (the numbers' bits: the edit's own values, compared exactly)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) fps: u64,
    pub(super) duration: u64,
    pub(super) poster: Option<u64>,
}

type Table = Mutex<HashMap<Shape, Arc<OnceCell<Rendered>>>>;

fn table() -> &'static Table {
    static MASTERS: OnceLock<Table> = OnceLock::new();
    MASTERS.get_or_init(Default::default)
}

/// The cell of `shape`'s master, filled by the first edit of that shape to finish composing;
/// `None` when the table is full and the shape new to it
pub(super) fn cell(shape: Shape) -> Option<Arc<OnceCell<Rendered>>> {
    let mut masters = table().lock().unwrap_or_else(PoisonError::into_inner);
    if masters.len() >= MAX_SHAPES && !masters.contains_key(&shape) {
        return None;
    }
    Some(masters.entry(shape).or_default().clone())
}

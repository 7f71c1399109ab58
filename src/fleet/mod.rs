//! What all jobs share at a provider: the gate that hands out submit slots (concurrency, requests
//! per minute, back-off on 429, fairness between creators) and the health of each model (failure
//! rate, latency, circuit breaker). Sans-IO like the rest of the core: the Worker keeps one gate
//! object per provider and feeds it time and outcomes.

pub mod desk;
pub mod gate;
pub mod health;
pub mod job_calls;
pub mod stored_desk;
mod touched;

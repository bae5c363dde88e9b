//! Turning a panic in a user closure into an error that names the operation.
//!
//! Each user closure is called through [`guarded`], which tags a panic with the operation's
//! name and lets it unwind on; the job boundary ([`Engine::run`](super::Engine)) catches it and
//! makes it an [`Error::ClosurePanicked`]. `catch_unwind` costs nothing on the path that does not
//! panic.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::error::Error;

/// A panic payload that knows which operation's closure panicked.
struct OperationPanic {
    operation: &'static str,
    message: String,
}

/// Calls a user closure on behalf of `operation`, tagging a panic with the operation's name.
#[inline]
pub(crate) fn guarded<R>(operation: &'static str, call: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(value) => value,
        // Already tagged by an inner operation: keep the innermost name.
        Err(payload) if payload.is::<OperationPanic>() => resume_unwind(payload),
        Err(payload) => {
            let message = message_of(payload.as_ref());
            resume_unwind(Box::new(OperationPanic { operation, message }))
        }
    }
}

/// The error for a panic that reached a job boundary.
pub(crate) fn to_error(fallback_operation: &'static str, payload: Box<dyn Any + Send>) -> Error {
    match payload.downcast::<OperationPanic>() {
        Ok(tagged) => Error::ClosurePanicked {
            operation: tagged.operation,
            message: tagged.message,
        },
        Err(payload) => Error::ClosurePanicked {
            operation: fallback_operation,
            message: message_of(payload.as_ref()),
        },
    }
}

fn message_of(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a payload that is not a string".to_string()
    }
}

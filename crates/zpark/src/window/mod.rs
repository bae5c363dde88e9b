//! Time operations on streams of timed slices, `Stream<Item = (SliceTime, Rdd<T>)>`.

mod slice_time;

pub use slice_time::SliceTime;

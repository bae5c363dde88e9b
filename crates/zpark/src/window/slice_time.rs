use std::fmt;
use std::time::Duration;

/// The time of a slice: the end of its interval, measured from the moment the slice stream was
/// first polled. Slice k of a stream sliced every `d` has time `k·d`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zpark::SliceTime;
/// let t = SliceTime::from_millis(1500);
/// assert_eq!(t.as_duration(), Duration::from_millis(1500));
/// assert_eq!(t.to_string(), "1.500s");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SliceTime(Duration);

impl SliceTime {
    /// The start of the stream.
    pub const ZERO: SliceTime = SliceTime(Duration::ZERO);

    /// A slice time `offset` after the start of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(zpark::SliceTime::new(Duration::from_secs(1)), zpark::SliceTime::from_millis(1000));
    /// ```
    pub const fn new(offset: Duration) -> SliceTime {
        SliceTime(offset)
    }

    /// A slice time `millis` milliseconds after the start.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::SliceTime::from_millis(5).as_duration().as_millis(), 5);
    /// ```
    pub const fn from_millis(millis: u64) -> SliceTime {
        SliceTime(Duration::from_millis(millis))
    }

    /// The offset from the start of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::SliceTime::ZERO.as_duration(), std::time::Duration::ZERO);
    /// ```
    pub const fn as_duration(self) -> Duration {
        self.0
    }
}

/// The same as `Display`, so that results such as `(time, count)` print as `(1.000s, 100)`.
impl fmt::Debug for SliceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SliceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0.as_secs(), self.0.subsec_millis())
    }
}

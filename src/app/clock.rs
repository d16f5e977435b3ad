//! Animation time per frame, fixed some frames in advance.
//!
//! A height source that writes several frames per hand-over (run-ahead, see
//! `HipHeights::with_run_ahead`) needs the animation times of frames not rendered yet.
//! [`AnimationClock`] gives every frame its time once, and can give it early: with a
//! fixed `--time-step` the times are known exactly; with the wall clock they are
//! predicted from the measured frame period, and a frame keeps the time it was given,
//! so the heights written ahead are the heights drawn.
//!
//! Prediction error is how far a frame's time is from the wall clock when the frame is
//! rendered. Each predicted step is the period estimate plus a share of the current
//! error, so the animation converges back onto the wall clock within a few frames after
//! a stall, a pause or a change of frame rate, without jumping backwards.

use std::collections::VecDeque;
use std::time::Instant;

/// How far ahead (seconds of predicted frames) the wall clock fixes times: at most this
/// much animation is decided before it is drawn, so a pause or a stall shows within it
/// (3 frames at 60 Hz; many more when frames take a fraction of a millisecond).
pub const WALL_CLOCK_HORIZON_S: f64 = 0.06;

/// How many frames' prediction errors the clock keeps (a long window session must not
/// grow memory).
pub const ERRORS_KEPT: usize = 1 << 16;

/// The frame period is the median of this many latest intervals between frames: a stall
/// or a slow first frame moves it by one place, a new frame rate takes over within half.
const PERIOD_INTERVALS: usize = 15;
/// Intervals measured before the wall clock fixes any time ahead. The first frames, before
/// the frames in flight fill up, come at once (up to 3 intervals with 4 frames in flight);
/// with 9 intervals the steady ones are the majority the median reads.
const INTERVALS_BEFORE_AHEAD: usize = 9;
/// ...and the latest intervals must agree with the period within this factor (a frame
/// rate that is changing is not predicted).
const STEADY_FACTOR: f64 = 2.0;
/// Share of the gap between the prediction and the last time given that each newly fixed
/// frame closes (1: jump straight to the prediction; smaller: smoother, slower).
const CATCH_UP: f64 = 0.5;

/// Where frame times come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeSource {
    /// Frame `n` is at `start + n·step` (`--time-step`; repeatable).
    Step { start: f64, step: f64 },
    /// Every frame is at `start` (headless runs without `--time-step`).
    Frozen { start: f64 },
    /// The wall clock since the first frame, plus `start`, not counting paused time.
    Wall { start: f64 },
}

/// Gives each frame its animation time (seconds, unwrapped), possibly ahead of time.
pub struct AnimationClock {
    source: TimeSource,
    /// Times given out for frames `next_frame ..`, oldest first.
    fixed: VecDeque<f64>,
    /// The first frame whose time is in `fixed` (or would be).
    next_frame: u64,
    /// Wall clock: the last time given out, for predicting past it.
    last_given: Option<f64>,
    /// Wall clock: the animation time the clock shows now, advanced while not paused.
    wall_time: f64,
    /// When `wall_time` was last advanced.
    wall_at: Option<Instant>,
    paused: bool,
    /// The latest intervals between frames, seconds, oldest first.
    intervals: VecDeque<f64>,
    /// When the previous frame was started (for the period estimate).
    last_frame_at: Option<Instant>,
    /// Wall clock: given time − wall time of the last [`ERRORS_KEPT`] frames rendered,
    /// seconds (for reports), oldest first.
    errors: VecDeque<f64>,
}

impl AnimationClock {
    /// A clock reading `source`.
    pub fn new(source: TimeSource) -> Self {
        let start = match source {
            TimeSource::Step { start, .. } | TimeSource::Frozen { start } | TimeSource::Wall { start } => start,
        };
        Self {
            source,
            fixed: VecDeque::new(),
            next_frame: 0,
            last_given: None,
            wall_time: start,
            wall_at: None,
            paused: false,
            intervals: VecDeque::new(),
            last_frame_at: None,
            errors: VecDeque::new(),
        }
    }

    /// Stops or restarts the wall clock (fixed-step and frozen clocks ignore it). Times
    /// already given out stay as they are.
    pub fn set_paused(&mut self, paused: bool, now: Instant) {
        self.advance_wall(now);
        self.paused = paused;
    }

    /// Whether the wall clock is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The times of frame `frame` and of up to `ahead` frames after it, fixing any not
    /// given out yet; frame `frame` is the one being rendered now. The wall clock fixes no
    /// more than [`WALL_CLOCK_HORIZON_S`] ahead (none before it knows the frame period), but
    /// always returns the times it has fixed before. Frames before `frame` are forgotten.
    /// Asking again for the same frame gives the same times.
    pub fn times(&mut self, frame: u64, ahead: usize, now: Instant) -> &[f64] {
        if frame > self.next_frame || (frame == self.next_frame && self.fixed.is_empty()) {
            self.start_frame(now);
        }
        while self.next_frame < frame {
            if self.fixed.pop_front().is_none() {
                // Frames skipped without being asked for: nothing was given out for them.
                self.next_frame = frame;
                break;
            }
            self.next_frame += 1;
        }
        // New times are fixed up to the horizon; times fixed before are returned as far as
        // asked (they are decided already).
        let period = self.period();
        let fix_ahead = match (self.source, period) {
            (TimeSource::Wall { .. }, Some(period)) if self.steady(period) => {
                ahead.min((WALL_CLOCK_HORIZON_S / period) as usize)
            }
            (TimeSource::Wall { .. }, _) => 0,
            _ => ahead,
        };
        while self.fixed.len() < fix_ahead + 1 {
            let n = self.next_frame + self.fixed.len() as u64;
            let time = self.time_for(n, self.fixed.len(), period.unwrap_or(0.0));
            self.fixed.push_back(time);
            self.last_given = Some(time);
        }
        let returned = self.fixed.len().min(ahead + 1);
        if let (TimeSource::Wall { .. }, Some(&given)) = (self.source, self.fixed.front()) {
            if self.errors.len() == ERRORS_KEPT {
                self.errors.pop_front();
            }
            self.errors.push_back(given - self.wall_time);
        }
        &self.fixed.make_contiguous()[..returned]
    }

    /// The time given to `frame`, if the clock still holds it (it holds the frames from
    /// the one rendered last on).
    pub fn time_of(&self, frame: u64) -> Option<f64> {
        let index = frame.checked_sub(self.next_frame)?;
        self.fixed.get(usize::try_from(index).ok()?).copied()
    }

    /// Wall clock: given time − wall-clock time of each of the last [`ERRORS_KEPT`] frames
    /// rendered, oldest first (seconds; positive: the animation ran ahead of the clock).
    /// Empty for the other sources.
    pub fn prediction_errors(&self) -> Vec<f64> {
        self.errors.iter().copied().collect()
    }

    /// The frame period: the median of the latest intervals between frames, seconds, once
    /// two frames have started.
    pub fn period(&self) -> Option<f64> {
        let mut sorted: Vec<f64> = self.intervals.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied()
    }

    /// Whether the frame rate is known and steady enough to predict: enough intervals, and
    /// the latest three within [`STEADY_FACTOR`] of `period`.
    fn steady(&self, period: f64) -> bool {
        period > 0.0
            && self.intervals.len() >= INTERVALS_BEFORE_AHEAD
            && self.intervals.iter().rev().take(3).all(|&i| i <= period * STEADY_FACTOR && i >= period / STEADY_FACTOR)
    }

    /// A new frame starts at `now`: update the period estimate and the wall time.
    fn start_frame(&mut self, now: Instant) {
        if let Some(previous) = self.last_frame_at {
            if self.intervals.len() == PERIOD_INTERVALS {
                self.intervals.pop_front();
            }
            self.intervals.push_back(now.saturating_duration_since(previous).as_secs_f64());
        }
        self.last_frame_at = Some(now);
        self.advance_wall(now);
    }

    fn advance_wall(&mut self, now: Instant) {
        if let Some(at) = self.wall_at {
            if !self.paused {
                self.wall_time += now.saturating_duration_since(at).as_secs_f64();
            }
        }
        self.wall_at = Some(now);
    }

    /// The time of frame `n`, `index` frames after the current one, with the frame period
    /// `period` (seconds; 0 when not known).
    fn time_for(&self, n: u64, index: usize, period: f64) -> f64 {
        match self.source {
            TimeSource::Step { start, step } => start + step * n as f64,
            TimeSource::Frozen { start } => start,
            TimeSource::Wall { .. } => match self.last_given {
                Some(last) if index > 0 => {
                    // Frame n is drawn about `index` periods from now: predict it, and
                    // close a share of the gap to that prediction, never going back.
                    let period = if self.paused { 0.0 } else { period };
                    let target = self.wall_time + period * index as f64;
                    let step = (period + (target - (last + period)) * CATCH_UP).max(0.0);
                    last + step
                }
                // The frame being rendered, nothing given for it yet: the wall clock
                // (not before a time already given).
                last => self.wall_time.max(last.unwrap_or(f64::MIN)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(start: Instant, ms: f64) -> Instant {
        start + Duration::from_secs_f64(ms / 1e3)
    }

    #[test]
    fn fixed_steps_are_exact_ahead_and_now() {
        let mut clock = AnimationClock::new(TimeSource::Step { start: 0.5, step: 0.25 });
        let t0 = Instant::now();
        assert_eq!(clock.times(0, 2, t0), vec![0.5, 0.75, 1.0]);
        assert_eq!(clock.times(1, 0, t0), vec![0.75]);
        assert_eq!(clock.times(2, 3, t0), vec![1.0, 1.25, 1.5, 1.75]);
        assert_eq!(clock.time_of(3), Some(1.25));
        assert_eq!(clock.time_of(1), None);
        assert!(clock.prediction_errors().is_empty());
    }

    #[test]
    fn frozen_clock_never_moves() {
        let mut clock = AnimationClock::new(TimeSource::Frozen { start: 2.0 });
        let t0 = Instant::now();
        assert_eq!(clock.times(0, 1, t0), vec![2.0, 2.0]);
        assert_eq!(clock.times(7, 0, at(t0, 500.0)), vec![2.0]);
    }

    #[test]
    fn wall_clock_without_ahead_is_the_wall_clock() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 1.0 });
        let t0 = Instant::now();
        for n in 0..100u64 {
            let now = at(t0, n as f64 * 7.0);
            let t = clock.times(n, 0, now);
            assert!((t[0] - (1.0 + n as f64 * 0.007)).abs() < 1e-9, "frame {n}: {t:?}");
        }
        assert!(clock.prediction_errors().iter().all(|e| e.abs() < 1e-9));
    }

    #[test]
    fn times_given_ahead_are_kept_and_increase() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        let mut given = std::collections::BTreeMap::new();
        for n in 0..400u64 {
            // Frames every 5 ms, with jitter of ±1 ms.
            let jitter = if n % 3 == 0 { 1.0 } else { -0.5 };
            let times = clock.times(n, 3, at(t0, n as f64 * 5.0 + jitter));
            for (i, t) in times.iter().enumerate() {
                let previous = given.insert(n + i as u64, *t);
                assert!(previous.is_none_or(|p| p == *t), "frame {} changed time", n + i as u64);
            }
        }
        let times: Vec<f64> = given.values().copied().collect();
        assert!(times.windows(2).all(|w| w[1] >= w[0]), "times went backwards");
        // After settling, each frame is within a fraction of a period of the wall clock.
        let late = &clock.prediction_errors()[100..];
        let worst = late.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        // Jitter is ±1 ms; the error stays below 2 ms (measured: 0.76 ms).
        assert!(worst < 0.002, "prediction error up to {worst} s at a 5 ms period");
        let period = clock.period().unwrap_or(f64::NAN);
        assert!((period - 0.005).abs() < 0.0005, "period {period}");
    }

    #[test]
    fn a_stall_is_caught_up_without_going_back() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        let mut now_ms = 0.0;
        let mut last = f64::MIN;
        for n in 0..200u64 {
            now_ms += if n == 100 { 200.0 } else { 10.0 };
            let t = clock.times(n, 2, at(t0, now_ms))[0];
            assert!(t >= last, "frame {n} went back");
            last = t;
        }
        // The stall leaves the animation 190 ms behind; it catches up geometrically (a third
        // of the error per frame with 3 frames fixed) and never overshoots by a period.
        let errors = clock.prediction_errors();
        assert!(errors[101] < -0.18, "the stall did not show: {}", errors[101]);
        assert!(errors[101..].iter().all(|&e| e < 0.010), "overshoot after the stall");
        assert!(errors[125..].iter().all(|e| e.abs() < 0.001), "not caught up 25 frames after the stall");
    }

    #[test]
    fn no_guessed_period_at_the_start() {
        // 0.5 ms frames, three fixed ahead: the first frames are never far ahead of the
        // clock (a 60 Hz guess would put them 50 ms ahead).
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        for n in 0..50u64 {
            clock.times(n, 3, at(t0, n as f64 * 0.5));
        }
        let worst = clock.prediction_errors().iter().fold(0.0f64, |m, e| m.max(e.abs()));
        assert!(worst < 0.002, "{worst} s off the clock at the start");
    }

    #[test]
    fn fast_first_frames_do_not_fix_times_far_behind_the_clock() {
        // The first frames come at once (nothing to wait for yet), then the steady rate: a
        // period learned from them would fix 15 frames in a few milliseconds of animation
        // (measured on the H100 at 8192²: 1.8 s behind the clock).
        for steady_ms in [100.0, 1000.0 / 60.0, 0.7] {
            let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
            let t0 = Instant::now();
            let mut now_ms = 0.0;
            for n in 0..200u64 {
                // K = 4: three intervals before the first fence wait.
                now_ms += if n < 4 { 0.05 } else { steady_ms };
                clock.times(n, 15, at(t0, now_ms));
            }
            let worst = clock.prediction_errors().iter().fold(0.0f64, |m, e| m.max(e.abs()));
            assert!(worst <= steady_ms / 1e3, "{steady_ms} ms frames: up to {worst} s off the clock");
        }
    }

    #[test]
    fn a_slower_frame_rate_is_learned() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        // 250 ms frames, 15× the initial 60 Hz guess.
        for n in 0..40u64 {
            clock.times(n, 1, at(t0, n as f64 * 250.0));
        }
        let period = clock.period().unwrap_or(f64::NAN);
        assert!((period - 0.25).abs() < 0.01, "period {period}");
        let late = &clock.prediction_errors()[20..];
        assert!(late.iter().all(|e| e.abs() < 0.01), "{late:?}");
    }

    #[test]
    fn the_wall_clock_fixes_no_more_than_its_horizon_ahead() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        // No period known yet: nothing ahead.
        assert_eq!(clock.times(0, 15, t0).len(), 1);
        // 60 Hz: the horizon holds 3 frames; 0.5 ms frames: all 15 asked for.
        for n in 1..20u64 {
            clock.times(n, 15, at(t0, n as f64 * 1000.0 / 60.0));
        }
        assert_eq!(clock.times(20, 15, at(t0, 20.0 * 1000.0 / 60.0)).len(), 4);
        let mut fast = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        for n in 0..20u64 {
            fast.times(n, 15, at(t0, n as f64 * 0.5));
        }
        assert_eq!(fast.times(20, 15, at(t0, 10.0)).len(), 16);
        // Times fixed before stay and are returned, even when the horizon shrinks.
        let before = fast.times(20, 15, at(t0, 10.0)).to_vec();
        assert_eq!(fast.times(21, 15, at(t0, 500.0))[..15], before[1..]);
    }

    #[test]
    fn pausing_stops_the_wall_clock() {
        let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.0 });
        let t0 = Instant::now();
        clock.times(0, 0, t0);
        clock.set_paused(true, at(t0, 10.0));
        let paused = clock.times(1, 0, at(t0, 500.0))[0];
        assert!((paused - 0.010).abs() < 1e-9, "{paused}");
        clock.set_paused(false, at(t0, 1000.0));
        let resumed = clock.times(2, 0, at(t0, 1010.0))[0];
        assert!((resumed - 0.020).abs() < 1e-9, "{resumed}");
    }
}

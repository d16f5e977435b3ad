//! When HIP writes the heights: bursts of frames per hand-over (run-ahead), queued some
//! frames before they are drawn (lead), and the height slots that takes.
//!
//! Measured on the H100 (examples/handover_cost.rs, BENCHMARKS.md): a wait of one API on
//! the other's semaphore costs about 150 µs of GPU time when it has to wait for pending
//! work, and about 1 µs when its value is already reached. A burst pays the hand-over once
//! for many frames; a lead of one burst makes both sides' waits already met.

/// Most frames HIP may write per hand-over; each needs a height slot.
pub const MAX_RUN_AHEAD: u32 = 16;

/// GPU memory the height slots of an automatic schedule may take.
pub const AUTOMATIC_SCHEDULE_MEMORY_BYTES: u64 = 64 << 20;

/// When HIP writes the heights (`timeline` can write ahead; the others write each frame as
/// it is drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteSchedule {
    /// Frames HIP writes per hand-over (a burst).
    pub run_ahead: u32,
    /// Frames before a burst's first frame is drawn that HIP queues it (0 or `run_ahead`).
    pub lead: u32,
}

impl WriteSchedule {
    /// One frame at a time, when it is drawn.
    pub const EACH_FRAME: WriteSchedule = WriteSchedule { run_ahead: 1, lead: 0 };

    /// Bursts of `run_ahead` frames, each queued one burst before it is drawn (timeline).
    pub fn ahead(run_ahead: u32) -> Self {
        WriteSchedule { run_ahead, lead: run_ahead }
    }

    /// Height slots needed with `k` frames in flight: a burst and its lead, plus the frames
    /// still in flight, so that HIP never waits for a draw the GPU has not finished (its
    /// waits are then already met, about 1 µs, instead of about 150 µs on the H100:
    /// examples/handover_cost.rs). Without a lead, the burst or `k`, whichever is more.
    pub fn height_slots(self, k: u32) -> u32 {
        match self.lead {
            0 => self.run_ahead.max(k),
            lead => (lead + self.run_ahead + k.saturating_sub(1)).max(k),
        }
    }

    /// The schedule when `--run-ahead` is not given and the timeline strategy is possible:
    /// bursts written one burst ahead, as long as [`AUTOMATIC_SCHEDULE_MEMORY_BYTES`] holds their
    /// height slots (up to [`MAX_RUN_AHEAD`] frames per burst); where not even a burst of
    /// one written one frame ahead fits, each frame as it is drawn. The animation clock
    /// (the app's) bounds how far ahead in time these frames are.
    pub fn automatic(width: u32, height: u32, k: u32) -> Self {
        let slot_bytes = (u64::from(width) * u64::from(height) * 4).max(1);
        let fit = u32::try_from(AUTOMATIC_SCHEDULE_MEMORY_BYTES / slot_bytes).unwrap_or(u32::MAX);
        if fit < WriteSchedule::ahead(1).height_slots(k) {
            return WriteSchedule::EACH_FRAME;
        }
        // 2R + k − 1 slots ≤ fit (fit ≥ k + 1 here).
        WriteSchedule::ahead(((fit - k.saturating_sub(1)) / 2).clamp(1, MAX_RUN_AHEAD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_schedule_fills_the_memory_budget_within_its_bounds() {
        let auto = WriteSchedule::automatic;
        // 256 KiB slots: 256 fit in 64 MiB; bursts of 16 (the most), 33 slots with K = 2.
        assert_eq!(auto(256, 256, 2), WriteSchedule { run_ahead: 16, lead: 16 });
        assert_eq!(auto(256, 256, 2).height_slots(2), 33);
        // 4 MiB slots: 16 fit; 2R + K − 1 ≤ 16 gives R = 7 (15 slots).
        assert_eq!(auto(1024, 1024, 2), WriteSchedule::ahead(7));
        assert_eq!(auto(1024, 1024, 2).height_slots(2), 15);
        // 16 MiB slots: 4 fit, a burst of one written one frame ahead (3 slots with K = 2).
        assert_eq!(auto(2048, 2048, 2), WriteSchedule::ahead(1));
        assert_eq!(auto(2048, 2048, 4), WriteSchedule::EACH_FRAME);
        // 64 MiB slots: only one fits: each frame as it is drawn, K slots.
        assert_eq!(auto(4096, 4096, 2), WriteSchedule::EACH_FRAME);
        assert_eq!(WriteSchedule::EACH_FRAME.height_slots(3), 3);
        assert_eq!(auto(1, 1, 4), WriteSchedule::ahead(MAX_RUN_AHEAD));
        // No frames in flight is treated as one (no underflow).
        assert_eq!(auto(256, 256, 0), auto(256, 256, 1));
        assert_eq!(WriteSchedule::ahead(2).height_slots(0), 4);
        // Without a lead, a burst needs its own slots only.
        assert_eq!(WriteSchedule { run_ahead: 6, lead: 0 }.height_slots(2), 6);
    }
}

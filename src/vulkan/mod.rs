//! The Vulkan layer: thin RAII types over ash, one file per object lifetime.
//!
//! Every object keeps an `Arc` to the [`Device`] (which keeps one to the [`Instance`]),
//! so parents are destroyed after their children whatever order owners drop them in.
//! Owners still wait for the GPU before dropping objects it may be using.

pub mod commands;
pub mod device;
pub mod export;
pub mod external;
pub mod instance;
pub mod live;
pub mod memory;
pub mod shared_image;
pub mod sync;

pub use device::{Device, DeviceSelection, PciAddress, PhysicalDeviceInfo};
pub use instance::{Instance, InstanceOptions};

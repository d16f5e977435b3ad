//! Structural check of a kernel image before the HIP runtime sees it.
//!
//! `hipModuleLoadData` trusts its input: a truncated or corrupted code object may
//! crash the runtime instead of returning an error. [`validate`] walks the image
//! with bounds-checked reads and says what it is ([`ImageInfo`]) or what is wrong
//! with it ([`ImageError`]). It understands:
//!
//! - a clang offload bundle (`hipcc --genco` on ROCm): magic `__CLANG_OFFLOAD_BUNDLE__`,
//!   u64 entry count, then per entry u64 offset, u64 size, u64 id length and the id
//!   (`hipv4-amdgcn-amd-amdhsa--gfx90a`), as described in LLVM's
//!   `clang/docs/ClangOffloadBundler.rst`. Each amdgcn entry must be an AMD ELF code
//!   object holding the kernel;
//! - a compressed offload bundle (`CCOB`, `--offload-compress`, ROCm ≥ 6.2): only its
//!   header is checked, the payload is not decompressed;
//! - an ELF code object, 64-bit little-endian: AMDGPU (`e_machine` 224) or an NVIDIA
//!   cubin (`e_machine` 190);
//! - an NVIDIA fatbin (`nvcc -fatbin`, magic `0xBA55ED50`): header and entry table;
//! - PTX text.
//!
//! Which of these a file is, is decided in one place for the build script, the HIP
//! loader and this module: [`hip::kernel_image_kind`]. ELF files are read with the
//! `object` crate; the bundle and fatbin containers, which it does not know, by hand.
//!
//! Every length read from the file is checked against the file before it is used;
//! arithmetic on them is done in `u128`, where the sum or product of two `u64`s cannot
//! overflow. Nothing is allocated from an unchecked length.

use std::fmt;

use object::elf::{FileHeader64, SHT_DYNSYM, SHT_SYMTAB};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader, Sym};
use object::LittleEndian;

use crate::hip::{self, KernelImageKind, KERNEL_IMAGE_MAGICS};

/// `e_machine` of an AMD GPU code object (`EM_AMDGPU`).
pub const EM_AMDGPU: u16 = object::elf::EM_AMDGPU.0;
/// `e_machine` of an NVIDIA cubin (`EM_CUDA`).
pub const EM_CUDA: u16 = object::elf::EM_CUDA.0;

/// The offload bundle's magic; its entry table follows it.
const BUNDLE_MAGIC: &[u8] = KERNEL_IMAGE_MAGICS[0].1;

/// What a kernel image is, as [`validate`] found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageInfo {
    /// A clang offload bundle; every amdgcn entry is an AMD ELF holding the kernel.
    OffloadBundle { entries: Vec<BundleEntry> },
    /// A compressed offload bundle: header checked, payload not decompressed.
    CompressedOffloadBundle { version: u16, method: u16, file_size: Option<u64> },
    /// An AMD GPU ELF code object (`e_flags` carries the target, `EF_AMDGPU_MACH`).
    AmdElf { e_flags: u32 },
    /// An NVIDIA fatbin with its entries (not looked into).
    NvidiaFatbin { entries: Vec<FatbinEntry> },
    /// An NVIDIA cubin ELF.
    NvidiaCubin { e_flags: u32 },
    /// PTX text with a `.entry` for the kernel.
    Ptx,
}

/// One entry of an offload bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleEntry {
    /// The bundle entry id: `<kind>-<triple>[-<target id>]`, e.g. `hipv4-amdgcn-amd-amdhsa--gfx90a`.
    pub id: String,
    pub offset: u64,
    pub size: u64,
}

impl BundleEntry {
    /// The offload kind: `host`, `hip`, `hipv4`, `openmp`, ...
    pub fn kind(&self) -> &str {
        self.id.split('-').next().unwrap_or("")
    }

    /// Whether this is a HIP entry for an AMD GPU (checked as an AMD ELF code object).
    pub fn is_hip_amdgcn(&self) -> bool {
        matches!(self.kind(), "hip" | "hipv4") && self.id.split('-').nth(1) == Some("amdgcn")
    }

    /// The target id after the 4-part triple (`gfx90a`, `gfx90a:xnack+`), if any.
    pub fn target_id(&self) -> Option<&str> {
        // kind - arch - vendor - os - env - target id; env is empty for amdhsa.
        self.id.splitn(6, '-').nth(5).filter(|t| !t.is_empty())
    }
}

/// One entry of an NVIDIA fatbin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FatbinEntry {
    /// 1 = PTX, 2 = ELF (cubin), as nvcc writes it.
    pub kind: u16,
    /// The SM version (`90` for sm_90), when the entry header is long enough to hold it.
    pub sm: Option<u32>,
    pub size: u64,
}

impl ImageInfo {
    /// The AMD targets (`gfx90a`, ...) of an offload bundle's HIP entries.
    pub fn amd_targets(&self) -> Vec<&str> {
        match self {
            ImageInfo::OffloadBundle { entries } => {
                entries.iter().filter(|e| e.is_hip_amdgcn()).map(|e| e.target_id().unwrap_or(e.id.as_str())).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ImageInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageInfo::OffloadBundle { entries } => {
                write!(f, "AMD offload bundle for {}", self.amd_targets().join(", "))?;
                let others: Vec<&str> = entries.iter().filter(|e| !e.is_hip_amdgcn()).map(|e| e.id.as_str()).collect();
                if !others.is_empty() {
                    write!(f, " (also {})", others.join(", "))?;
                }
                Ok(())
            }
            ImageInfo::CompressedOffloadBundle { version, method, .. } => write!(
                f,
                "compressed AMD offload bundle (version {version}, method {}; header checked, contents not)",
                match method {
                    0 => "zlib",
                    1 => "zstd",
                    _ => "unknown",
                }
            ),
            ImageInfo::AmdElf { e_flags } => write!(f, "AMD ELF code object (e_flags {e_flags:#x})"),
            ImageInfo::NvidiaFatbin { entries } => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|e| {
                        let kind = match e.kind {
                            1 => "ptx",
                            2 => "cubin",
                            _ => "other",
                        };
                        match e.sm {
                            Some(sm) => format!("{kind} sm_{sm}"),
                            None => kind.to_string(),
                        }
                    })
                    .collect();
                write!(f, "NVIDIA fatbin with {}", parts.join(", "))
            }
            ImageInfo::NvidiaCubin { e_flags } => write!(f, "NVIDIA cubin ELF (e_flags {e_flags:#x})"),
            ImageInfo::Ptx => write!(f, "PTX text"),
        }
    }
}

/// What is wrong with a kernel image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// The file is empty.
    Empty,
    /// No known magic; `head` holds the first (up to 4) bytes.
    NotACodeObject { head: Vec<u8> },
    /// `what` ends at byte `end` but the file has only `len` bytes.
    Truncated { what: String, end: u128, len: usize },
    /// A field holds an impossible value.
    Malformed(String),
    /// A valid file of a kind the loader cannot use (32-bit ELF, other machine, ...).
    Unsupported(String),
    /// The image is well formed but has no kernel of that name.
    NoKernel { name: String, place: &'static str },
    /// PTX that is not usable text.
    BadPtx(String),
    /// An error inside entry `index` (1-based) of an offload bundle.
    InBundleEntry { index: u64, id: String, error: Box<ImageError> },
}

impl ImageError {
    /// Whether the file is cut short (here or inside a bundle entry).
    pub fn is_truncated(&self) -> bool {
        match self {
            ImageError::Truncated { .. } => true,
            ImageError::InBundleEntry { error, .. } => error.is_truncated(),
            _ => false,
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Empty => write!(f, "the file is empty"),
            ImageError::NotACodeObject { head } => {
                let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "not a code object: starts with {} (expected an AMD offload bundle or ELF, an NVIDIA fatbin \
                     or cubin, or PTX text)",
                    hex.join(" ")
                )
            }
            ImageError::Truncated { what, end, len } => {
                write!(f, "truncated: {what} ends at byte {end} but the file has {len}")
            }
            ImageError::Malformed(what) => write!(f, "malformed: {what}"),
            ImageError::Unsupported(what) => write!(f, "unsupported: {what}"),
            ImageError::NoKernel { name, place } => write!(f, "no kernel named '{name}' in the {place}"),
            ImageError::BadPtx(what) => write!(f, "{what}"),
            ImageError::InBundleEntry { index, id, error } => write!(f, "offload bundle entry {index} ({id}): {error}"),
        }
    }
}

impl std::error::Error for ImageError {}

type Result<T> = std::result::Result<T, ImageError>;

/// Checks that `image` is a code object the HIP loader can take and that it holds
/// `kernel_name` (for AMD code objects, `kernel_name` or `kernel_name.kd`).
pub fn validate(image: &[u8], kernel_name: &str) -> Result<ImageInfo> {
    // A file cut inside a magic number is a truncated file of that kind.
    for (kind, magic) in KERNEL_IMAGE_MAGICS {
        if !image.is_empty() && image.len() < magic.len() && magic.starts_with(image) {
            return Err(truncated(format!("{} magic", kind_name(kind)), magic.len() as u128, image));
        }
    }
    match hip::kernel_image_kind(image) {
        KernelImageKind::Empty => Err(ImageError::Empty),
        KernelImageKind::OffloadBundle => validate_bundle(image, kernel_name),
        KernelImageKind::CompressedOffloadBundle => validate_compressed_bundle(image),
        KernelImageKind::Elf => match validate_elf(image, None, kernel_name)? {
            (EM_AMDGPU, e_flags) => Ok(ImageInfo::AmdElf { e_flags }),
            (_, e_flags) => Ok(ImageInfo::NvidiaCubin { e_flags }),
        },
        KernelImageKind::NvidiaFatbin => validate_fatbin(image),
        KernelImageKind::Ptx => validate_ptx(image, kernel_name).map(|()| ImageInfo::Ptx),
        KernelImageKind::Unknown => Err(ImageError::NotACodeObject { head: image[..image.len().min(4)].to_vec() }),
    }
}

/// How messages name a kind of image.
fn kind_name(kind: KernelImageKind) -> &'static str {
    match kind {
        KernelImageKind::Empty => "empty file",
        KernelImageKind::OffloadBundle => "offload bundle",
        KernelImageKind::CompressedOffloadBundle => "compressed offload bundle",
        KernelImageKind::Elf => "ELF",
        KernelImageKind::NvidiaFatbin => "fatbin",
        KernelImageKind::Ptx => "PTX",
        KernelImageKind::Unknown => "unknown file",
    }
}

fn truncated(what: impl Into<String>, end: u128, image: &[u8]) -> ImageError {
    ImageError::Truncated { what: what.into(), end, len: image.len() }
}

/// `len` bytes at `start`, or [`ImageError::Truncated`] naming `what`.
fn slice(image: &[u8], start: u128, len: u128, what: impl FnOnce() -> String) -> Result<&[u8]> {
    let end = start + len; // both come from u64 values or usizes: no overflow in u128
    if end > image.len() as u128 {
        return Err(truncated(what(), end, image));
    }
    // In bounds of a slice, so both fit in usize.
    Ok(&image[start as usize..end as usize])
}

fn read_u16(image: &[u8], at: u128, what: &str) -> Result<u16> {
    let b = slice(image, at, 2, || what.to_string())?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(image: &[u8], at: u128, what: &str) -> Result<u32> {
    let b = slice(image, at, 4, || what.to_string())?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(image: &[u8], at: u128, what: &str) -> Result<u64> {
    let b = slice(image, at, 8, || what.to_string())?;
    Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

// ---------------------------------------------------------------------------
// Clang offload bundle

fn validate_bundle(image: &[u8], kernel_name: &str) -> Result<ImageInfo> {
    let count = read_u64(image, BUNDLE_MAGIC.len() as u128, "offload bundle entry count")?;
    if count == 0 {
        return Err(ImageError::Malformed("offload bundle has no entries".into()));
    }
    // Each entry header takes at least 24 bytes of the file, so the walk below stops
    // at the end of the file long before a huge `count` could matter; nothing is
    // allocated from `count`.
    let mut entries = Vec::new();
    let mut at: u128 = BUNDLE_MAGIC.len() as u128 + 8;
    for index in 1..=count {
        let field = |name: &str| format!("offload bundle entry {index} {name}");
        let offset = read_u64(image, at, &field("offset"))?;
        let size = read_u64(image, at + 8, &field("size"))?;
        let id_len = read_u64(image, at + 16, &field("id length"))?;
        let id_bytes = slice(image, at + 24, id_len as u128, || field("id"))?;
        at += 24 + id_len as u128;
        let id = std::str::from_utf8(id_bytes)
            .ok()
            .filter(|id| id.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| ImageError::Malformed(format!("offload bundle entry {index} id is not ASCII text")))?
            .to_string();
        slice(image, offset as u128, size as u128, || format!("offload bundle entry {index} ({id})"))?;
        entries.push(BundleEntry { id, offset, size });
    }
    for (index, entry) in (1u64..).zip(&entries) {
        if !entry.is_hip_amdgcn() {
            continue; // the host entry is empty; other kinds are not ours to judge
        }
        // In bounds: checked in the walk above.
        let payload = &image[entry.offset as usize..(entry.offset + entry.size) as usize];
        validate_elf(payload, Some(EM_AMDGPU), kernel_name).map_err(|error| ImageError::InBundleEntry {
            index,
            id: entry.id.clone(),
            error: Box::new(error),
        })?;
    }
    if !entries.iter().any(BundleEntry::is_hip_amdgcn) {
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        return Err(ImageError::Unsupported(format!(
            "offload bundle has no hip amdgcn entry (it has {})",
            ids.join(", ")
        )));
    }
    Ok(ImageInfo::OffloadBundle { entries })
}

/// Compressed bundle header (LLVM `CompressedOffloadBundle`): "CCOB", u16 version,
/// u16 method (0 zlib, 1 zstd); v1: u32 uncompressed size, u64 hash; v2: u32 total
/// file size, u32 uncompressed size, u64 hash; v3: as v2 with u64 sizes. Only the
/// header is checked (and the total size, from v2 on): decompressing needs zlib/zstd.
fn validate_compressed_bundle(image: &[u8]) -> Result<ImageInfo> {
    let version = read_u16(image, 4, "compressed offload bundle version")?;
    let method = read_u16(image, 6, "compressed offload bundle method")?;
    let (header_len, file_size) = match version {
        1 => (20u128, None),
        2 => (24, Some(u64::from(read_u32(image, 8, "compressed offload bundle file size")?))),
        3 => (32, Some(read_u64(image, 8, "compressed offload bundle file size")?)),
        _ => return Err(ImageError::Unsupported(format!("compressed offload bundle version {version}"))),
    };
    if method > 1 {
        return Err(ImageError::Unsupported(format!("compressed offload bundle method {method}")));
    }
    slice(image, 0, header_len + 1, || "compressed offload bundle header".into())?;
    if let Some(size) = file_size {
        if u128::from(size) > image.len() as u128 {
            return Err(truncated("compressed offload bundle", size.into(), image));
        }
    }
    Ok(ImageInfo::CompressedOffloadBundle { version, method, file_size })
}

// ---------------------------------------------------------------------------
// ELF

/// Checks a 64-bit little-endian ELF and finds `kernel_name` (or `kernel_name.kd`)
/// among its defined symbols. `machine`: the required `e_machine`, or `None` for
/// AMDGPU or CUDA. Returns `(e_machine, e_flags)`.
///
/// `object` checks every table it reads but reports only that one is invalid; the
/// extents the loader depends on (header, program and section header tables, each
/// segment and section) are checked here first, so a cut file says what is cut short.
fn validate_elf(image: &[u8], machine: Option<u16>, kernel_name: &str) -> Result<(u16, u32)> {
    let ident = slice(image, 0, 16, || "ELF identification".into())?;
    match (ident[4], ident[5]) {
        (2, 1) => {}
        (1, _) => return Err(ImageError::Unsupported("32-bit ELF; code objects are 64-bit".into())),
        (2, 2) => return Err(ImageError::Unsupported("big-endian ELF; code objects are little-endian".into())),
        (class, data) => return Err(ImageError::Malformed(format!("ELF class {class}, data encoding {data}"))),
    }
    slice(image, 0, size_of::<FileHeader64<LittleEndian>>() as u128, || "ELF header".into())?;
    let header = FileHeader64::<LittleEndian>::parse(image).map_err(malformed("ELF header"))?;
    let endian = LittleEndian;
    let e_machine = header.e_machine(endian).0;
    let e_flags = header.e_flags(endian).0;
    let machine_ok = match machine {
        Some(m) => e_machine == m,
        None => e_machine == EM_AMDGPU || e_machine == EM_CUDA,
    };
    if !machine_ok {
        let expected = match machine {
            Some(EM_AMDGPU) => "AMDGPU (224)".to_string(),
            Some(m) => m.to_string(),
            None => "AMDGPU (224) or CUDA (190)".to_string(),
        };
        return Err(ImageError::Unsupported(format!("ELF e_machine {e_machine}, expected {expected}")));
    }

    // Program headers: the loader maps these segments.
    let phnum = header.e_phnum(endian);
    if phnum > 0 {
        let table = u128::from(phnum) * u128::from(header.e_phentsize(endian));
        slice(image, header.e_phoff(endian).into(), table, || "ELF program header table".into())?;
        let segments = header.program_headers(endian, image).map_err(malformed("ELF program headers"))?;
        for (i, segment) in segments.iter().enumerate() {
            let (offset, size) = segment.file_range(endian);
            slice(image, offset.into(), size.into(), || format!("ELF segment {i}"))?;
        }
    }

    // Section headers: needed to find the symbol table. (Extended numbering, e_shnum 0
    // with the count in section 0, is only used past 0xff00 sections, which no kernel
    // code object has.)
    let shnum = header.e_shnum(endian);
    if shnum == 0 {
        return Err(ImageError::Malformed("ELF has no section headers, so no symbol table".into()));
    }
    let table = u128::from(shnum) * u128::from(header.e_shentsize(endian));
    slice(image, header.e_shoff(endian).into(), table, || "ELF section header table".into())?;
    let headers = header.section_headers(endian, image).map_err(malformed("ELF section headers"))?;
    for (i, section) in headers.iter().enumerate() {
        if let Some((offset, size)) = section.file_range(endian) {
            slice(image, offset.into(), size.into(), || format!("ELF section {i}"))?;
        }
    }
    let sections = header.sections(endian, image).map_err(malformed("ELF sections"))?;

    let mut symbol_tables = 0;
    for kind in [SHT_SYMTAB, SHT_DYNSYM] {
        if !headers.iter().any(|s| s.sh_type(endian) == kind) {
            continue;
        }
        symbol_tables += 1;
        let name = if kind == SHT_SYMTAB { ".symtab" } else { ".dynsym" };
        let symbols = sections.symbols(endian, image, kind).map_err(malformed(format!("ELF symbol table {name}")))?;
        for (j, symbol) in symbols.iter().enumerate() {
            let symbol_name =
                symbol.name(endian, symbols.strings()).map_err(malformed(format!("ELF symbol {j} of {name}")))?;
            if !symbol.is_undefined(endian) && is_kernel_symbol(symbol_name, kernel_name) {
                return Ok((e_machine, e_flags));
            }
        }
    }
    if symbol_tables == 0 {
        return Err(ImageError::Malformed("ELF has no symbol table (.symtab or .dynsym)".into()));
    }
    Err(ImageError::NoKernel { name: kernel_name.to_string(), place: "symbol table" })
}

/// Turns an error of `object` into [`ImageError::Malformed`] naming `what` it was reading.
fn malformed(what: impl fmt::Display) -> impl FnOnce(object::Error) -> ImageError {
    move |e| ImageError::Malformed(format!("{what}: {e}"))
}

/// `name` or `name.kd` (the AMD kernel descriptor).
fn is_kernel_symbol(symbol: &[u8], kernel_name: &str) -> bool {
    let k = kernel_name.as_bytes();
    symbol == k || symbol.strip_prefix(k) == Some(b".kd")
}

// ---------------------------------------------------------------------------
// NVIDIA fatbin

/// Fatbin layout as nvcc writes it (CUDA's `fatbinary_section.h` and the entry
/// layout known from public decoders): header `u32 magic, u16 version, u16
/// header size, u64 size of the entries`; each entry starts `u16 kind (1 PTX,
/// 2 ELF), u16 flags?, u32 entry header size, u64 payload size`, with the SM
/// version at byte 28 of the entry header. Only this table is checked: entries
/// may be compressed, so the cubins and PTX inside are not looked into.
fn validate_fatbin(image: &[u8]) -> Result<ImageInfo> {
    let version = read_u16(image, 4, "fatbin version")?;
    let header_size = read_u16(image, 6, "fatbin header size")?;
    let fat_size = read_u64(image, 8, "fatbin size")?;
    if version != 1 {
        return Err(ImageError::Unsupported(format!("fatbin version {version}, expected 1")));
    }
    if header_size < 16 {
        return Err(ImageError::Malformed(format!("fatbin header size {header_size}, expected at least 16")));
    }
    let start = u128::from(header_size);
    let end = start + u128::from(fat_size);
    slice(image, start, fat_size.into(), || "fatbin".into())?;
    let mut entries = Vec::new();
    let mut at = start;
    while at < end {
        let index = entries.len() + 1;
        let field = |name: &str| format!("fatbin entry {index} {name}");
        let entry_header = slice(image, at, 16, || field("header"))?;
        let kind = u16::from_le_bytes([entry_header[0], entry_header[1]]);
        let entry_header_size = read_u32(image, at + 4, &field("header size"))?;
        let size = read_u64(image, at + 8, &field("payload size"))?;
        if entry_header_size < 16 {
            return Err(ImageError::Malformed(format!(
                "{} {entry_header_size}, expected at least 16",
                field("header size")
            )));
        }
        let entry_end = at + u128::from(entry_header_size) + u128::from(size);
        if entry_end > end {
            return Err(if entry_end > image.len() as u128 {
                truncated(format!("fatbin entry {index}"), entry_end, image)
            } else {
                ImageError::Malformed(format!(
                    "fatbin entry {index} ends at byte {entry_end}, past the fatbin's end {end}"
                ))
            });
        }
        let sm = if entry_header_size >= 32 { Some(read_u32(image, at + 28, &field("arch"))?) } else { None };
        entries.push(FatbinEntry { kind, sm, size });
        at = entry_end;
    }
    if entries.is_empty() {
        return Err(ImageError::Malformed("fatbin has no entries".into()));
    }
    Ok(ImageInfo::NvidiaFatbin { entries })
}

// ---------------------------------------------------------------------------
// PTX

/// Whether PTX (as [`hip::kernel_image_kind`] judged it) is usable text declaring
/// `.entry kernel_name`. The loader appends the NUL, so it may be absent.
fn validate_ptx(image: &[u8], kernel_name: &str) -> Result<()> {
    let body = match image.iter().rposition(|&b| b != 0) {
        Some(last) => &image[..=last],
        None => &[],
    };
    let text = std::str::from_utf8(body).map_err(|e| {
        ImageError::BadPtx(format!("PTX is not NUL-terminated text: invalid UTF-8 at byte {}", e.valid_up_to()))
    })?;
    if let Some(at) = text.find('\0') {
        return Err(ImageError::BadPtx(format!("PTX is not NUL-terminated text: NUL byte at {at} before the end")));
    }
    if ptx_has_entry(text, kernel_name) {
        Ok(())
    } else {
        Err(ImageError::NoKernel { name: kernel_name.to_string(), place: "PTX (.entry)" })
    }
}

/// Whether `text` has `.entry <kernel_name>` followed by `(`, whitespace or the end.
fn ptx_has_entry(text: &str, kernel_name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    text.match_indices(".entry").any(|(at, directive)| {
        let rest = &text[at + directive.len()..];
        let name = rest.trim_start();
        name.len() < rest.len() && name.strip_prefix(kernel_name).is_some_and(|after| !after.starts_with(is_ident))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hip::{EMBEDDED_KERNEL, EMBEDDED_KERNEL_DESCRIPTION};
    use object::elf::{ELFMAG, SHT_NULL, SHT_STRTAB};

    const FATBIN_MAGIC: &[u8] = KERNEL_IMAGE_MAGICS[3].1;

    const NAME: &str = "sinewave";

    /// The bundle `build/hip.rs` compiled; CI and this machine have hipcc.
    fn real_bundle() -> &'static [u8] {
        assert!(
            !EMBEDDED_KERNEL.is_empty(),
            "these tests need the embedded AMD bundle, but none was built ({EMBEDDED_KERNEL_DESCRIPTION}); \
             install ROCm so hipcc is on the PATH and rebuild"
        );
        assert!(EMBEDDED_KERNEL.starts_with(BUNDLE_MAGIC), "the embedded kernel is not an AMD offload bundle");
        EMBEDDED_KERNEL
    }

    /// A minimal ELF: header, a null section, .symtab, .strtab, .shstrtab.
    fn tiny_elf(machine: u16, symbol: &str) -> Vec<u8> {
        let strtab = [b"\0", symbol.as_bytes(), b"\0"].concat();
        let shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0".to_vec();
        let mut symtab = vec![0u8; 48]; // null symbol, then ours
        symtab[24..28].copy_from_slice(&1u32.to_le_bytes()); // st_name
        symtab[24 + 4] = 0x12; // GLOBAL FUNC
        symtab[24 + 6..24 + 8].copy_from_slice(&1u16.to_le_bytes()); // st_shndx: defined
        let symtab_at = 64u64;
        let strtab_at = symtab_at + symtab.len() as u64;
        let shstrtab_at = strtab_at + strtab.len() as u64;
        let shoff = (shstrtab_at + shstrtab.len() as u64).next_multiple_of(8);

        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(&ELFMAG);
        elf[4] = 2; // 64-bit
        elf[5] = 1; // little-endian
        elf[6] = 1; // version
        elf[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        elf[18..20].copy_from_slice(&machine.to_le_bytes());
        elf[20..24].copy_from_slice(&1u32.to_le_bytes());
        elf[40..48].copy_from_slice(&shoff.to_le_bytes());
        elf[52..54].copy_from_slice(&64u16.to_le_bytes());
        elf[58..60].copy_from_slice(&64u16.to_le_bytes());
        elf[60..62].copy_from_slice(&4u16.to_le_bytes());
        elf[62..64].copy_from_slice(&3u16.to_le_bytes());
        elf.extend_from_slice(&symtab);
        elf.extend_from_slice(&strtab);
        elf.extend_from_slice(&shstrtab);
        elf.resize(shoff as usize, 0);
        let mut shdr = |name: u32, kind: object::elf::SectionType, offset: u64, size: u64, link: u32, entsize: u64| {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.0.to_le_bytes());
            h[24..32].copy_from_slice(&offset.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            h[40..44].copy_from_slice(&link.to_le_bytes());
            h[56..64].copy_from_slice(&entsize.to_le_bytes());
            elf.extend_from_slice(&h);
        };
        shdr(0, SHT_NULL, 0, 0, 0, 0);
        shdr(1, SHT_SYMTAB, symtab_at, symtab.len() as u64, 2, 24);
        shdr(9, SHT_STRTAB, strtab_at, strtab.len() as u64, 0, 0);
        shdr(17, SHT_STRTAB, shstrtab_at, shstrtab.len() as u64, 0, 0);
        elf
    }

    #[test]
    fn real_bundle_validates_and_lists_its_targets() {
        let info = validate(real_bundle(), NAME).expect("the embedded bundle is valid");
        let targets = info.amd_targets();
        for arch in ["gfx90a", "gfx1030"] {
            assert!(targets.contains(&arch), "{arch} missing from {targets:?} ({info})");
        }
        assert!(info.to_string().starts_with("AMD offload bundle for "), "{info}");
    }

    #[test]
    fn real_bundle_without_the_kernel_name_is_rejected() {
        let err = validate(real_bundle(), "cosinewave").unwrap_err();
        assert!(err.to_string().contains("no kernel named 'cosinewave' in the symbol table"), "{err}");
        assert!(matches!(err, ImageError::InBundleEntry { .. }), "{err:?}");
    }

    #[test]
    fn every_truncation_of_the_real_bundle_is_rejected() {
        let bundle = real_bundle();
        let n = bundle.len();
        let lengths = (0..64).chain((0..n).step_by(97)).chain(n.saturating_sub(64)..n);
        for len in lengths {
            match validate(&bundle[..len], NAME) {
                Ok(info) => panic!("truncated to {len} of {n} bytes, but accepted as {info}"),
                Err(ImageError::Empty) => assert_eq!(len, 0),
                Err(e) => assert!(e.is_truncated() && e.to_string().starts_with("truncated: "), "{len}: {e}"),
            }
        }
    }

    #[test]
    fn truncated_entry_message_names_the_entry_and_sizes() {
        let bundle = real_bundle();
        let err = validate(&bundle[..bundle.len() - 1], NAME).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("truncated: offload bundle entry "), "{msg}");
        assert!(
            msg.ends_with(&format!("ends at byte {} but the file has {}", bundle.len(), bundle.len() - 1)),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_length_fields_do_not_panic() {
        let bundle = real_bundle();
        // The entry count, then each entry's offset, size and id length.
        let mut fields = vec![24usize];
        let mut at = 32usize;
        for _ in 0..4 {
            fields.extend([at, at + 8, at + 16]);
            let id_len = u64::from_le_bytes(bundle[at + 16..at + 24].try_into().unwrap()) as usize;
            at += 24 + id_len;
        }
        for field in fields {
            for byte in 0..8 {
                for value in [0x00, 0xff, 0x7f, 0x10] {
                    let mut image = bundle.to_vec();
                    image[field + byte] = value;
                    let _ = validate(&image, NAME);
                }
            }
        }
        // A 2^60 entry count or id length is rejected without allocating for it.
        let mut image = bundle.to_vec();
        image[24..32].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(validate(&image, NAME).is_err());
        let mut image = bundle.to_vec();
        image[48..56].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(validate(&image, NAME).unwrap_err().is_truncated());
        let mut image = bundle.to_vec();
        image[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(validate(&image, NAME).unwrap_err().is_truncated());
    }

    #[test]
    fn hand_made_elf_with_and_without_the_symbol() {
        assert_eq!(validate(&tiny_elf(EM_AMDGPU, "sinewave"), NAME), Ok(ImageInfo::AmdElf { e_flags: 0 }));
        assert_eq!(validate(&tiny_elf(EM_AMDGPU, "sinewave.kd"), NAME), Ok(ImageInfo::AmdElf { e_flags: 0 }));
        assert_eq!(validate(&tiny_elf(EM_CUDA, "sinewave"), NAME), Ok(ImageInfo::NvidiaCubin { e_flags: 0 }));
        let err = validate(&tiny_elf(EM_AMDGPU, "sinewave2"), NAME).unwrap_err();
        assert_eq!(err.to_string(), "no kernel named 'sinewave' in the symbol table");
        let err = validate(&tiny_elf(62, "sinewave"), NAME).unwrap_err();
        assert!(err.to_string().contains("e_machine 62"), "{err}");
        let elf = tiny_elf(EM_AMDGPU, "sinewave");
        for len in 1..elf.len() {
            assert!(validate(&elf[..len], NAME).unwrap_err().is_truncated(), "{len}");
        }
    }

    #[test]
    fn ptx_with_and_without_the_entry() {
        let ptx = ".version 7.0\n.target sm_80\n.address_size 64\n\n.visible .entry sinewave(\n\t.param .u64 p\n)\n{\n\tret;\n}\n";
        assert_eq!(validate(ptx.as_bytes(), NAME), Ok(ImageInfo::Ptx));
        let with_nul = [ptx.as_bytes(), b"\0"].concat();
        assert_eq!(validate(&with_nul, NAME), Ok(ImageInfo::Ptx));
        assert_eq!(validate(ptx.replace("sinewave(", "sinewave  (").as_bytes(), NAME), Ok(ImageInfo::Ptx));
        let other = ptx.replace("sinewave", "sinewave_v2");
        let err = validate(other.as_bytes(), NAME).unwrap_err();
        assert!(err.to_string().starts_with("no kernel named 'sinewave'"), "{err}");
        let mut binary = ptx.as_bytes().to_vec();
        binary[40] = 0xff;
        assert!(validate(&binary, NAME).unwrap_err().to_string().starts_with("PTX is not NUL-terminated text"));
        binary[40] = 0;
        assert!(validate(&binary, NAME).unwrap_err().to_string().starts_with("PTX is not NUL-terminated text"));
    }

    #[test]
    fn fatbin_header_and_entries() {
        let mut fatbin = Vec::new();
        fatbin.extend_from_slice(FATBIN_MAGIC);
        fatbin.extend_from_slice(&1u16.to_le_bytes());
        fatbin.extend_from_slice(&16u16.to_le_bytes());
        fatbin.extend_from_slice(&(64u64 + 8).to_le_bytes());
        let mut entry = [0u8; 64];
        entry[0..2].copy_from_slice(&2u16.to_le_bytes());
        entry[4..8].copy_from_slice(&64u32.to_le_bytes());
        entry[8..16].copy_from_slice(&8u64.to_le_bytes());
        entry[28..32].copy_from_slice(&90u32.to_le_bytes());
        fatbin.extend_from_slice(&entry);
        fatbin.extend_from_slice(&[0xab; 8]);
        let info = validate(&fatbin, NAME).unwrap();
        assert_eq!(info, ImageInfo::NvidiaFatbin { entries: vec![FatbinEntry { kind: 2, sm: Some(90), size: 8 }] });
        assert_eq!(info.to_string(), "NVIDIA fatbin with cubin sm_90");
        for len in 1..fatbin.len() {
            assert!(validate(&fatbin[..len], NAME).unwrap_err().is_truncated(), "{len}");
        }
    }

    #[test]
    fn compressed_bundle_header() {
        let mut ccob = b"CCOB".to_vec();
        ccob.extend_from_slice(&2u16.to_le_bytes());
        ccob.extend_from_slice(&1u16.to_le_bytes());
        ccob.extend_from_slice(&40u32.to_le_bytes());
        ccob.extend_from_slice(&1000u32.to_le_bytes());
        ccob.extend_from_slice(&[7; 24]);
        assert!(matches!(validate(&ccob, NAME), Ok(ImageInfo::CompressedOffloadBundle { version: 2, method: 1, .. })));
        assert!(validate(&ccob[..39], NAME).unwrap_err().is_truncated());
    }

    #[test]
    fn other_files_are_not_code_objects() {
        assert_eq!(validate(b"", NAME), Err(ImageError::Empty));
        let err = validate(b"random bytes", NAME).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a code object: starts with 72 61 6e 64 (expected an AMD offload bundle or ELF, an NVIDIA fatbin or \
             cubin, or PTX text)"
        );
        // Deterministic pseudo-random bytes (xorshift).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in [1, 7, 64, 1000, 4096] {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            assert!(validate(&bytes, NAME).is_err());
        }
    }

    #[test]
    fn bundle_entry_ids() {
        let e = |id: &str| BundleEntry { id: id.into(), offset: 0, size: 0 };
        assert_eq!(e("hipv4-amdgcn-amd-amdhsa--gfx90a").target_id(), Some("gfx90a"));
        assert_eq!(e("hip-amdgcn-amd-amdhsa--gfx90a:xnack+").target_id(), Some("gfx90a:xnack+"));
        assert_eq!(e("host-x86_64-unknown-linux").target_id(), None);
        assert!(e("hipv4-amdgcn-amd-amdhsa--gfx940").is_hip_amdgcn());
        assert!(!e("host-x86_64-unknown-linux").is_hip_amdgcn());
        assert!(!e("openmp-amdgcn-amd-amdhsa--gfx90a").is_hip_amdgcn());
    }
}

//! [`Capture`]: the screen of an X11 display, frame by frame.

use std::fs::File;
use std::os::unix::fs::FileExt;

use g2a_core::{FrameRef, PixelFormat, Rect, Size};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, EventMask, ImageFormat, ImageOrder, MapState,
    Window,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::cursor::{CursorPosition, CursorShape, ShapeCache};
use crate::{CaptureError, Target};
use g2a_core::AlignedBuf;

/// More damage rectangles than this are read as their bounding box: one
/// larger read costs less than many round trips.
const MAX_RECTS: usize = 64;

/// Events handled per grab at most; the rest wait for the next grab.
const MAX_EVENTS_PER_GRAB: usize = 65_536;

/// Options of a [`Capture`]: which X extensions it may use.
///
/// Both default to on; each is used only when the display offers it.
/// Turning one off forces the fallback (for comparisons and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureOptions {
    /// Read pixels through MIT-SHM shared memory (else plain `GetImage`,
    /// which copies every pixel through the X socket).
    pub shm: bool,
    /// Read only what XDamage reports as changed (else the whole area on
    /// every grab).
    pub damage: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            shm: true,
            damage: true,
        }
    }
}

impl CaptureOptions {
    /// Allows or forbids MIT-SHM.
    #[must_use]
    pub fn shm(mut self, on: bool) -> Self {
        self.shm = on;
        self
    }

    /// Allows or forbids XDamage.
    #[must_use]
    pub fn damage(mut self, on: bool) -> Self {
        self.damage = on;
        self
    }
}

/// Counters of a [`Capture`], and the extensions it uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureStats {
    /// Grabs made.
    pub grabs: u64,
    /// Grabs that read pixels (something changed, or no XDamage).
    pub changed: u64,
    /// Rectangles read.
    pub rects: u64,
    /// Pixel bytes read from the X server.
    pub bytes: u64,
    /// Pixels come through MIT-SHM.
    pub shm: bool,
    /// XDamage tells what changed.
    pub damage: bool,
    /// XFixes gives the cursor's shape.
    pub xfixes: bool,
}

/// One grab: the captured area's pixels and the cursor.
#[derive(Debug)]
#[non_exhaustive]
pub struct Grab<'a> {
    /// The whole captured area, B, G, R, X bytes, packed.
    pub frame: FrameRef<'a>,
    /// Pixels were read because something changed (always true for the
    /// first grab, after a size change or a move, and without XDamage).
    /// When false, `frame` is the previous grab's, unchanged.
    pub changed: bool,
    /// The captured area's size differs from the previous grab's.
    pub resized: bool,
    /// The rectangles read this time, in frame coordinates.
    pub rects: &'a [Rect],
    /// Where the pointer is, relative to the frame's top-left corner, or
    /// `None` when it is on another screen.
    pub cursor: Option<CursorPosition>,
    /// A cursor shape not given before, which `cursor` refers to: record it
    /// before the position.
    pub new_shape: Option<CursorShape>,
}

/// A shared memory segment allocated by the X server and passed to us as a
/// file descriptor; we read it with `pread` (no mapping, no `unsafe`).
#[derive(Debug)]
struct ShmSegment {
    seg: shm::Seg,
    file: File,
    len: usize,
}

/// Damage tracking on the root window.
#[derive(Debug, Clone, Copy)]
struct DamageState {
    damage: damage::Damage,
    region: xfixes::Region,
}

/// Captures the screen of an X11 display, or a region or window of it.
///
/// Call protocol: [`Capture::open`], then [`Capture::grab`] at the rate
/// wanted (see [`Pacer`](crate::Pacer)); each grab returns the whole
/// captured area (a persistent buffer updated in place) and the cursor.
///
/// How pixels are read:
/// - **XDamage** on the root window reports which parts of the screen
///   were drawn; a grab reads only those rectangles (clipped to the area)
///   into the persistent frame, and reads nothing when nothing was drawn.
///   The damage is taken (`DamageSubtract`) before the pixels are read, so
///   anything drawn while reading is reported again for the next grab:
///   the frame never misses a change, and the encoder behind it verifies
///   which tiles really changed.
/// - **MIT-SHM**: the X server writes the rectangles into a shared memory
///   segment (one request each, pipelined) and we copy them out; without
///   SHM (a remote display) plain `GetImage` sends them over the socket.
/// - **XFixes** gives the cursor's image, converted once per shape (by the
///   cursor's serial), and the position is queried each grab: the cursor
///   is recorded apart from the frames, which X never draws it into.
/// - A screen size change (RandR) or a window's move or resize makes the
///   next grab read the whole new area.
#[derive(Debug)]
pub struct Capture {
    conn: RustConnection,
    root: Window,
    screen: Size,
    target: Target,
    /// The captured area in root coordinates, within the screen.
    area: Rect,
    /// The area's pixels, packed B, G, R, X.
    frame: AlignedBuf,
    /// The rectangles read by the last grab (frame coordinates).
    rects: Vec<Rect>,
    use_shm: bool,
    shm: Option<ShmSegment>,
    damage: Option<DamageState>,
    xfixes: bool,
    /// Damage was reported since the last grab.
    dirty: bool,
    /// The next grab reads the whole area.
    full: bool,
    cursor_changed: bool,
    cursor_shape: Option<Option<u32>>,
    shapes: ShapeCache,
    stats: CaptureStats,
}

impl Capture {
    /// Connects to `display` (`None`: `$DISPLAY`) and prepares to capture
    /// `target`, with every extension the display offers.
    ///
    /// # Errors
    /// [`CaptureError::Connect`] when the display can't be reached,
    /// [`CaptureError::UnsupportedPixels`] for a screen that is not 32-bit
    /// BGRX, [`CaptureError::RegionOutside`] or [`CaptureError::NoWindow`]
    /// for a target that is not on the screen, and X errors.
    ///
    /// # Examples
    /// ```no_run
    /// use g2a_capture::{Capture, Target};
    /// let mut cap = Capture::open(Some(":0"), Target::Screen)?;
    /// let grab = cap.grab()?;
    /// println!("{}x{}", grab.frame.size().width, grab.frame.size().height);
    /// # Ok::<(), g2a_capture::CaptureError>(())
    /// ```
    pub fn open(display: Option<&str>, target: Target) -> Result<Capture, CaptureError> {
        Capture::open_with(display, target, CaptureOptions::default())
    }

    /// [`Capture::open`] with options.
    ///
    /// # Errors
    /// As [`Capture::open`].
    pub fn open_with(
        display: Option<&str>,
        target: Target,
        opts: CaptureOptions,
    ) -> Result<Capture, CaptureError> {
        let (conn, screen_num) =
            x11rb::connect(display).map_err(|source| CaptureError::Connect {
                display: display
                    .map(str::to_owned)
                    .or_else(|| std::env::var("DISPLAY").ok())
                    .unwrap_or_default(),
                source,
            })?;
        let setup = conn.setup();
        let screen = setup.roots.get(screen_num).ok_or(CaptureError::NoScreen {
            index: screen_num,
            count: setup.roots.len(),
        })?;
        check_pixels(setup, screen)?;
        let root = screen.root;
        let screen_size = Size::new(
            u32::from(screen.width_in_pixels),
            u32::from(screen.height_in_pixels),
        );
        // Root size changes (RandR) arrive as ConfigureNotify.
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
        )?
        .check()?;

        let use_shm = opts.shm && shm_usable(&conn)?;
        let xfixes = has_extension(&conn, xfixes::X11_EXTENSION_NAME)?
            && conn.xfixes_query_version(5, 0)?.reply()?.major_version >= 2;
        let damage = if opts.damage && xfixes && has_extension(&conn, damage::X11_EXTENSION_NAME)? {
            conn.damage_query_version(1, 1)?.reply()?;
            let region = conn.generate_id()?;
            conn.xfixes_create_region(region, &[])?.check()?;
            let d = conn.generate_id()?;
            conn.damage_create(d, root, damage::ReportLevel::NON_EMPTY)?
                .check()?;
            Some(DamageState { damage: d, region })
        } else {
            None
        };
        if xfixes {
            conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)?
                .check()?;
        }
        let mut cap = Capture {
            conn,
            root,
            screen: screen_size,
            target,
            area: Rect::default(),
            frame: AlignedBuf::default(),
            rects: Vec::new(),
            use_shm,
            shm: None,
            damage,
            xfixes,
            dirty: false,
            full: true,
            cursor_changed: true,
            cursor_shape: None,
            shapes: ShapeCache::default(),
            stats: CaptureStats {
                shm: use_shm,
                damage: damage.is_some(),
                xfixes,
                ..CaptureStats::default()
            },
        };
        if let Target::Window(id) = target {
            let attrs = cap
                .conn
                .get_window_attributes(id)?
                .reply()
                .map_err(|_| CaptureError::NoWindow(id))?;
            if attrs.map_state != MapState::VIEWABLE {
                return Err(CaptureError::WindowHidden(id));
            }
        }
        cap.update_area()?;
        Ok(cap)
    }

    /// What is captured.
    #[must_use]
    pub fn target(&self) -> Target {
        self.target
    }

    /// The size of the frames as of the last grab (or of opening).
    #[must_use]
    pub fn size(&self) -> Size {
        Size::new(self.area.width, self.area.height)
    }

    /// The captured area in screen coordinates, as of the last grab.
    #[must_use]
    pub fn area(&self) -> Rect {
        self.area
    }

    /// The counters so far and the extensions in use.
    #[must_use]
    pub fn stats(&self) -> CaptureStats {
        self.stats
    }

    /// Captures what changed since the last grab and the cursor.
    ///
    /// # Errors
    /// [`CaptureError::NoWindow`] when the captured window went away,
    /// [`CaptureError::RegionOutside`] when the screen shrank under the
    /// region, X errors, and [`CaptureError::Shm`] for shared memory reads.
    pub fn grab(&mut self) -> Result<Grab<'_>, CaptureError> {
        self.drain_events()?;
        let resized = self.update_area()?;
        self.take_damage()?;
        let changed = !self.rects.is_empty();
        if changed {
            if let Err(e) = self.read_rects() {
                // The screen may have shrunk between our look at it and the
                // read (a BadMatch): look again and read everything once.
                if !matches!(
                    e,
                    CaptureError::Request(x11rb::errors::ReplyError::X11Error(_))
                ) {
                    return Err(e);
                }
                self.refresh_screen_size()?;
                self.full = true;
                self.update_area()?;
                self.take_damage()?;
                self.read_rects()?;
            }
        }
        let (cursor, new_shape) = self.cursor()?;
        self.stats.grabs += 1;
        self.stats.changed += u64::from(changed);
        let frame = FrameRef::packed(self.frame.bytes(), self.size(), PixelFormat::Bgrx8)?;
        Ok(Grab {
            frame,
            changed,
            resized,
            rects: &self.rects,
            cursor,
            new_shape,
        })
    }

    /// Handles the queued events: damage, cursor shape and screen size.
    fn drain_events(&mut self) -> Result<(), CaptureError> {
        for _ in 0..MAX_EVENTS_PER_GRAB {
            let Some(ev) = self.conn.poll_for_event()? else {
                break;
            };
            match ev {
                Event::DamageNotify(_) => self.dirty = true,
                Event::XfixesCursorNotify(_) => self.cursor_changed = true,
                Event::ConfigureNotify(e) if e.window == self.root => {
                    let size = Size::new(u32::from(e.width), u32::from(e.height));
                    if size != self.screen {
                        self.screen = size;
                        self.full = true;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn refresh_screen_size(&mut self) -> Result<(), CaptureError> {
        let g = self.conn.get_geometry(self.root)?.reply()?;
        self.screen = Size::new(u32::from(g.width), u32::from(g.height));
        Ok(())
    }

    /// Works out the captured area; resizes the frame when its size
    /// changed. Returns true on a size change.
    fn update_area(&mut self) -> Result<bool, CaptureError> {
        let screen = Rect::of_size(self.screen);
        let area = match self.target {
            Target::Screen => screen,
            Target::Region(r) => r
                .intersect(screen)
                .filter(|_| r.fits_in(self.screen))
                .ok_or(CaptureError::RegionOutside {
                    region: r,
                    screen: self.screen,
                })?,
            Target::Window(id) => self.window_area(id)?,
        };
        if area == self.area {
            return Ok(false);
        }
        let resized = (area.width, area.height) != (self.area.width, self.area.height);
        self.area = area;
        self.full = true;
        if resized {
            let len =
                usize::try_from(Size::new(area.width, area.height).area() * 4).map_err(|_| {
                    CaptureError::RegionOutside {
                        region: area,
                        screen: self.screen,
                    }
                })?;
            self.frame.reset(len);
        }
        Ok(resized)
    }

    /// The part of the screen the window covers.
    fn window_area(&self, id: Window) -> Result<Rect, CaptureError> {
        let geom = self.conn.get_geometry(id)?;
        let pos = self.conn.translate_coordinates(id, self.root, 0, 0)?;
        let geom = geom.reply().map_err(|_| CaptureError::NoWindow(id))?;
        let pos = pos.reply().map_err(|_| CaptureError::NoWindow(id))?;
        if geom.root != self.root || !pos.same_screen {
            return Err(CaptureError::NoWindow(id));
        }
        let x0 = i64::from(pos.dst_x).max(0);
        let y0 = i64::from(pos.dst_y).max(0);
        let x1 = (i64::from(pos.dst_x) + i64::from(geom.width)).min(i64::from(self.screen.width));
        let y1 = (i64::from(pos.dst_y) + i64::from(geom.height)).min(i64::from(self.screen.height));
        if x1 <= x0 || y1 <= y0 {
            return Err(CaptureError::WindowHidden(id));
        }
        // All four lie within 0..=screen size (a u16), so they fit u32.
        Ok(Rect::new(
            x0 as u32,
            y0 as u32,
            (x1 - x0) as u32,
            (y1 - y0) as u32,
        ))
    }

    /// Sets `self.rects` to what must be read (frame coordinates).
    fn take_damage(&mut self) -> Result<(), CaptureError> {
        self.rects.clear();
        let whole = Rect::new(0, 0, self.area.width, self.area.height);
        let Some(d) = self.damage else {
            self.rects.push(whole);
            self.full = false;
            return Ok(());
        };
        if self.full {
            // Forget the damage so far: everything is read now.
            self.conn
                .damage_subtract(d.damage, x11rb::NONE, x11rb::NONE)?;
            self.full = false;
            self.dirty = false;
            self.rects.push(whole);
            return Ok(());
        }
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        self.conn.damage_subtract(d.damage, x11rb::NONE, d.region)?;
        let reply = self.conn.xfixes_fetch_region(d.region)?.reply()?;
        self.rects.extend(
            reply
                .rectangles
                .iter()
                .filter_map(|r| to_area(r, self.area)),
        );
        if self.rects.len() > MAX_RECTS {
            let bbox = bounding_box(&self.rects);
            self.rects.clear();
            self.rects.extend(bbox);
        }
        Ok(())
    }

    /// Reads `self.rects` into the frame.
    fn read_rects(&mut self) -> Result<(), CaptureError> {
        let area_bytes = self.frame.bytes().len();
        let total: u64 = self
            .rects
            .iter()
            .map(|r| Size::new(r.width, r.height).area() * 4)
            .sum();
        if total > area_bytes as u64 {
            // Overlapping rectangles (not from XFixes regions, which are
            // disjoint): read their bounding box instead.
            let bbox = bounding_box(&self.rects);
            self.rects.clear();
            self.rects.extend(bbox);
        }
        if self.use_shm {
            match self.read_rects_shm(area_bytes) {
                Ok(()) => return Ok(()),
                Err(CaptureError::Shm(_)) => {
                    // The segment can't be read (an unusual server): use
                    // GetImage from now on.
                    self.use_shm = false;
                    self.stats.shm = false;
                    self.shm = None;
                }
                Err(e) => return Err(e),
            }
        }
        self.read_rects_plain()
    }

    fn ensure_shm(&mut self, len: usize) -> Result<(), CaptureError> {
        if self.shm.as_ref().is_some_and(|s| s.len >= len) {
            return Ok(());
        }
        if let Some(old) = self.shm.take() {
            self.conn.shm_detach(old.seg)?;
        }
        let seg = self.conn.generate_id()?;
        let size = u32::try_from(len).map_err(|_| {
            CaptureError::Shm(std::io::Error::other("the frame is larger than 4 GiB"))
        })?;
        let reply = self
            .conn
            .shm_create_segment(seg, size, false)?
            .reply()
            .map_err(|e| CaptureError::Shm(std::io::Error::other(e)))?;
        self.shm = Some(ShmSegment {
            seg,
            file: File::from(reply.shm_fd),
            len,
        });
        Ok(())
    }

    fn read_rects_shm(&mut self, area_bytes: usize) -> Result<(), CaptureError> {
        self.ensure_shm(area_bytes)?;
        let Some(shm) = &self.shm else {
            return Err(CaptureError::Shm(std::io::Error::other("no segment")));
        };
        // Pipeline: one request per rectangle at its own offset, then the
        // replies, then the copies.
        let mut cookies = Vec::new();
        let mut offset = 0usize;
        for r in &self.rects {
            let (x, y, w, h) = request_geometry(*r, self.area)?;
            cookies.push((
                self.conn.shm_get_image(
                    self.root,
                    x,
                    y,
                    w,
                    h,
                    !0,
                    ImageFormat::Z_PIXMAP.into(),
                    shm.seg,
                    offset as u32,
                )?,
                offset,
            ));
            offset += r.width as usize * r.height as usize * 4;
        }
        let mut offsets = Vec::new();
        for (cookie, off) in cookies {
            cookie.reply()?;
            offsets.push(off);
        }
        let stride = self.area.width as usize * 4;
        for (r, off) in self.rects.iter().zip(offsets) {
            let row = r.width as usize * 4;
            let start = r.y as usize * stride + r.x as usize * 4;
            if r.x == 0 && r.width == self.area.width {
                let dst = &mut self.frame.bytes_mut()[start..start + row * r.height as usize];
                shm.file
                    .read_exact_at(dst, off as u64)
                    .map_err(CaptureError::Shm)?;
            } else {
                for i in 0..r.height as usize {
                    let s = start + i * stride;
                    shm.file
                        .read_exact_at(
                            &mut self.frame.bytes_mut()[s..s + row],
                            (off + i * row) as u64,
                        )
                        .map_err(CaptureError::Shm)?;
                }
            }
            self.stats.rects += 1;
            self.stats.bytes += (row * r.height as usize) as u64;
        }
        Ok(())
    }

    fn read_rects_plain(&mut self) -> Result<(), CaptureError> {
        let mut cookies = Vec::new();
        for r in &self.rects {
            let (x, y, w, h) = request_geometry(*r, self.area)?;
            cookies.push(
                self.conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, !0)?,
            );
        }
        let stride = self.area.width as usize * 4;
        for (r, cookie) in self.rects.iter().zip(cookies) {
            let reply = cookie.reply()?;
            let row = r.width as usize * 4;
            let expected = row * r.height as usize;
            if reply.data.len() < expected {
                return Err(CaptureError::ShortImage {
                    found: reply.data.len(),
                    expected,
                    width: r.width,
                    height: r.height,
                });
            }
            let start = r.y as usize * stride + r.x as usize * 4;
            for (i, src) in reply
                .data
                .chunks_exact(row)
                .take(r.height as usize)
                .enumerate()
            {
                let s = start + i * stride;
                self.frame.bytes_mut()[s..s + row].copy_from_slice(src);
            }
            self.stats.rects += 1;
            self.stats.bytes += expected as u64;
        }
        Ok(())
    }

    /// The pointer's position, and its shape when it is new.
    fn cursor(&mut self) -> Result<(Option<CursorPosition>, Option<CursorShape>), CaptureError> {
        let (ax, ay) = (i64::from(self.area.x), i64::from(self.area.y));
        let rel = |x: i16, y: i16| ((i64::from(x) - ax) as i32, (i64::from(y) - ay) as i32);
        if self.xfixes && (self.cursor_changed || self.cursor_shape.is_none()) {
            self.cursor_changed = false;
            let img = self.conn.xfixes_get_cursor_image()?.reply()?;
            let mut new_shape = None;
            let id = match self.shapes.get(img.cursor_serial) {
                Some(id) => id,
                None => {
                    new_shape = self.shapes.insert(
                        img.cursor_serial,
                        Size::new(u32::from(img.width), u32::from(img.height)),
                        (u32::from(img.xhot), u32::from(img.yhot)),
                        &img.cursor_image,
                    );
                    new_shape.as_ref().map(|s| s.id)
                }
            };
            self.cursor_shape = Some(id);
            let (x, y) = rel(img.x, img.y);
            return Ok((Some(CursorPosition { x, y, shape: id }), new_shape));
        }
        let p = self.conn.query_pointer(self.root)?.reply()?;
        if !p.same_screen {
            return Ok((None, None));
        }
        let (x, y) = rel(p.root_x, p.root_y);
        Ok((
            Some(CursorPosition {
                x,
                y,
                shape: self.cursor_shape.flatten(),
            }),
            None,
        ))
    }
}

/// Checks that the screen's pixels are 32-bit little-endian BGRX.
fn check_pixels(
    setup: &x11rb::protocol::xproto::Setup,
    screen: &x11rb::protocol::xproto::Screen,
) -> Result<(), CaptureError> {
    let depth = screen.root_depth;
    let bpp = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map_or(0, |f| f.bits_per_pixel);
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == screen.root_visual);
    let (red, green, blue) = visual.map_or((0, 0, 0), |v| (v.red_mask, v.green_mask, v.blue_mask));
    let lsb = setup.image_byte_order == ImageOrder::LSB_FIRST;
    if (depth == 24 || depth == 32)
        && bpp == 32
        && lsb
        && (red, green, blue) == (0xff_0000, 0xff00, 0xff)
    {
        Ok(())
    } else {
        Err(CaptureError::UnsupportedPixels {
            found: format!(
                "depth {depth} at {bpp} bits per pixel, {} first, red mask 0x{red:x}",
                if lsb {
                    "least significant byte"
                } else {
                    "most significant byte"
                }
            ),
        })
    }
}

fn has_extension(conn: &RustConnection, name: &'static str) -> Result<bool, CaptureError> {
    Ok(conn.extension_information(name)?.is_some())
}

/// MIT-SHM 1.2 or later (server-allocated segments passed as file
/// descriptors), on a local connection.
fn shm_usable(conn: &RustConnection) -> Result<bool, CaptureError> {
    if !has_extension(conn, shm::X11_EXTENSION_NAME)? {
        return Ok(false);
    }
    let v = conn.shm_query_version()?.reply()?;
    Ok((v.major_version, v.minor_version) >= (1, 2))
}

/// A root-coordinate rectangle from XFixes, clipped to `area` and
/// translated to frame coordinates.
fn to_area(r: &x11rb::protocol::xproto::Rectangle, area: Rect) -> Option<Rect> {
    let (x, y) = (i64::from(r.x), i64::from(r.y));
    let x0 = x.max(i64::from(area.x));
    let y0 = y.max(i64::from(area.y));
    let x1 = (x + i64::from(r.width)).min(area.right() as i64);
    let y1 = (y + i64::from(r.height)).min(area.bottom() as i64);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    // Within the area, so within u32.
    Some(Rect::new(
        (x0 - i64::from(area.x)) as u32,
        (y0 - i64::from(area.y)) as u32,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
    ))
}

/// The smallest rectangle covering all of `rects` (none for none).
fn bounding_box(rects: &[Rect]) -> Option<Rect> {
    let first = rects.first()?;
    let (mut x0, mut y0) = (u64::from(first.x), u64::from(first.y));
    let (mut x1, mut y1) = (first.right(), first.bottom());
    for r in &rects[1..] {
        x0 = x0.min(u64::from(r.x));
        y0 = y0.min(u64::from(r.y));
        x1 = x1.max(r.right());
        y1 = y1.max(r.bottom());
    }
    // Every edge comes from a rectangle within one u32 frame.
    Some(Rect::new(
        x0 as u32,
        y0 as u32,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
    ))
}

/// The X request geometry (root coordinates) of a frame rectangle.
fn request_geometry(r: Rect, area: Rect) -> Result<(i16, i16, u16, u16), CaptureError> {
    let too_big = || CaptureError::RegionOutside {
        region: area,
        screen: Size::new(u32::from(u16::MAX), u32::from(u16::MAX)),
    };
    let x = i16::try_from(u64::from(r.x) + u64::from(area.x)).map_err(|_| too_big())?;
    let y = i16::try_from(u64::from(r.y) + u64::from(area.y)).map_err(|_| too_big())?;
    let w = u16::try_from(r.width).map_err(|_| too_big())?;
    let h = u16::try_from(r.height).map_err(|_| too_big())?;
    Ok((x, y, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x11rb::protocol::xproto::Rectangle;

    #[test]
    fn damage_is_clipped_to_the_area() {
        let area = Rect::new(100, 50, 200, 100);
        let r = |x, y, width, height| Rectangle {
            x,
            y,
            width,
            height,
        };
        assert_eq!(to_area(&r(0, 0, 10, 10), area), None);
        assert_eq!(
            to_area(&r(90, 40, 20, 20), area),
            Some(Rect::new(0, 0, 10, 10))
        );
        assert_eq!(
            to_area(&r(290, 140, 50, 50), area),
            Some(Rect::new(190, 90, 10, 10))
        );
        assert_eq!(
            to_area(&r(-5, 60, 400, 1), area),
            Some(Rect::new(0, 10, 200, 1))
        );
        assert_eq!(to_area(&r(300, 60, 5, 5), area), None);
    }

    #[test]
    fn bounding_boxes_cover_all() {
        assert_eq!(bounding_box(&[]), None);
        let b = bounding_box(&[
            Rect::new(5, 5, 1, 1),
            Rect::new(0, 9, 3, 2),
            Rect::new(7, 0, 1, 1),
        ]);
        assert_eq!(b, Some(Rect::new(0, 0, 8, 11)));
    }

    #[test]
    fn request_geometry_is_in_root_coordinates() {
        let area = Rect::new(100, 50, 200, 100);
        assert_eq!(
            request_geometry(Rect::new(1, 2, 3, 4), area).unwrap(),
            (101, 52, 3, 4)
        );
        assert!(request_geometry(Rect::new(40_000, 0, 1, 1), area).is_err());
    }
}

package zipx

import (
	"bufio"
	"encoding/binary"
	"io"
	"slices"
	"time"
)

// Record signatures and fixed lengths (PKWARE APPNOTE 4.3).
const (
	sigLocal       = 0x04034b50
	sigCentral     = 0x02014b50
	sigEnd         = 0x06054b50
	sigEnd64       = 0x06064b50
	sigEnd64Loc    = 0x07064b50
	lenLocal       = 30
	lenCentral     = 46
	lenEnd         = 22
	lenEnd64       = 56
	lenEnd64Loc    = 20
	maxCommentLen  = 0xffff
	methodAES      = 99
	extraZip64     = 0x0001
	extraNTFS      = 0x000a
	extraExtTime   = 0x5455
	extraWinZipAES = 0x9901

	flagEncrypted      = 1 << 0
	flagDataDescriptor = 1 << 3
	flagStrong         = 1 << 6
	flagMaskedHeaders  = 1 << 13
)

// directoryEnd is what the end-of-central-directory records say.
type directoryEnd struct {
	records uint64 // entries the directory claims
	start   int64  // absolute offset of the first central directory record
	size    int64  // bytes of central directory
	base    int64  // bytes prepended to the zip data (a self-extractor stub)
	zip64   bool   // the zip64 record was used (records is exact, not mod 65536)
}

// readDirectoryEnd finds and checks the end-of-central-directory record (and
// its zip64 form), and returns where the central directory is.
func readDirectoryEnd(r io.ReaderAt, size int64) (directoryEnd, error) {
	if size < lenEnd {
		return directoryEnd{}, corruptf("%d bytes is too short for a zip archive", size)
	}
	window := min(size, lenEnd+maxCommentLen)
	buf := make([]byte, window)
	if _, err := r.ReadAt(buf, size-window); err != nil && err != io.EOF {
		return directoryEnd{}, err
	}
	// The record is the last signature whose comment fits in the file.
	at := -1
	for i := len(buf) - lenEnd; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == sigEnd {
			commentLen := int(binary.LittleEndian.Uint16(buf[i+20:]))
			if i+lenEnd+commentLen <= len(buf) {
				at = i
				break
			}
		}
	}
	if at < 0 {
		return directoryEnd{}, corruptf("no end of central directory record (truncated or not a zip archive)")
	}
	endOffset := size - window + int64(at)
	b := buf[at:]
	disk := binary.LittleEndian.Uint16(b[4:])
	dirDisk := binary.LittleEndian.Uint16(b[6:])
	diskRecords := binary.LittleEndian.Uint16(b[8:])
	records := binary.LittleEndian.Uint16(b[10:])
	dirSize := binary.LittleEndian.Uint32(b[12:])
	dirOffset := binary.LittleEndian.Uint32(b[16:])

	if records == 0xffff || diskRecords == 0xffff || dirSize == 0xffffffff || dirOffset == 0xffffffff || disk == 0xffff {
		d, found, err := readDirectoryEnd64(r, endOffset)
		if err != nil || found {
			return d, err
		}
		// No zip64 locator: the values are literal (for example exactly
		// 65535 entries).
	}
	if err := checkSingleVolume(uint32(disk), uint32(dirDisk), uint64(diskRecords), uint64(records)); err != nil {
		return directoryEnd{}, err
	}
	base := endOffset - int64(dirSize) - int64(dirOffset)
	if base < 0 {
		return directoryEnd{}, corruptf("central directory (offset %d, size %d) runs past its end record at %d", dirOffset, dirSize, endOffset)
	}
	// base > 0 means data was prepended (a self-extractor stub); offsets in
	// the directory are relative to the start of the zip data.
	return directoryEnd{records: uint64(records), start: base + int64(dirOffset), size: int64(dirSize), base: base}, nil
}

// readDirectoryEnd64 reads the zip64 locator just before the end record at
// endOffset and the zip64 end record it points to.
func readDirectoryEnd64(r io.ReaderAt, endOffset int64) (directoryEnd, bool, error) {
	locOffset := endOffset - lenEnd64Loc
	if locOffset < 0 {
		return directoryEnd{}, false, nil
	}
	var loc [lenEnd64Loc]byte
	if _, err := r.ReadAt(loc[:], locOffset); err != nil {
		return directoryEnd{}, false, readErr(err)
	}
	if binary.LittleEndian.Uint32(loc[0:]) != sigEnd64Loc {
		return directoryEnd{}, false, nil
	}
	if binary.LittleEndian.Uint32(loc[4:]) != 0 || binary.LittleEndian.Uint32(loc[16:]) > 1 {
		return directoryEnd{}, true, errUnsupportedf("multi-volume archives are not supported")
	}
	end64 := binary.LittleEndian.Uint64(loc[8:])
	if end64 > uint64(locOffset) || uint64(locOffset)-end64 < lenEnd64 {
		return directoryEnd{}, true, corruptf("zip64 end record offset %d out of range", end64)
	}
	var b [lenEnd64]byte
	if _, err := r.ReadAt(b[:], int64(end64)); err != nil {
		return directoryEnd{}, true, readErr(err)
	}
	if binary.LittleEndian.Uint32(b[0:]) != sigEnd64 {
		return directoryEnd{}, true, corruptf("bad zip64 end record signature at %d", end64)
	}
	disk := binary.LittleEndian.Uint32(b[16:])
	dirDisk := binary.LittleEndian.Uint32(b[20:])
	diskRecords := binary.LittleEndian.Uint64(b[24:])
	records := binary.LittleEndian.Uint64(b[32:])
	dirSize := binary.LittleEndian.Uint64(b[40:])
	dirOffset := binary.LittleEndian.Uint64(b[48:])
	if err := checkSingleVolume(disk, dirDisk, diskRecords, records); err != nil {
		return directoryEnd{}, true, err
	}
	if dirOffset > end64 || dirSize != end64-dirOffset {
		return directoryEnd{}, true, corruptf("zip64 central directory (offset %d, size %d) does not end at its end record %d", dirOffset, dirSize, end64)
	}
	return directoryEnd{records: records, start: int64(dirOffset), size: int64(dirSize), zip64: true}, true, nil
}

// checkSingleVolume refuses archives split over several disks (volumes).
func checkSingleVolume(disk, dirDisk uint32, diskRecords, records uint64) error {
	if disk != 0 || dirDisk != 0 || diskRecords != records {
		return errUnsupportedf("multi-volume archives are not supported")
	}
	return nil
}

// readDirectory parses the central directory and checks every entry's place
// in the archive.
func readDirectory(r io.ReaderAt, d directoryEnd, maxEntries int64, owner *Reader) ([]*File, error) {
	if d.records > uint64(maxEntries) {
		return nil, &LimitError{Limit: LimitEntries, Max: maxEntries}
	}
	if d.records > uint64(d.size/lenCentral) {
		return nil, corruptf("central directory of %d bytes cannot hold %d entries", d.size, d.records)
	}
	files := make([]*File, 0, d.records)
	br := bufio.NewReaderSize(io.NewSectionReader(r, d.start, d.size), 32<<10)
	var fixed [lenCentral]byte
	var variable []byte
	for remaining := d.size; remaining > 0; {
		if remaining < lenCentral {
			return nil, corruptf("%d stray bytes at the end of the central directory", remaining)
		}
		if int64(len(files)) >= maxEntries {
			return nil, &LimitError{Limit: LimitEntries, Max: maxEntries}
		}
		if _, err := io.ReadFull(br, fixed[:]); err != nil {
			return nil, readErr(err)
		}
		if binary.LittleEndian.Uint32(fixed[:]) != sigCentral {
			return nil, corruptf("bad central directory record signature (entry %d)", len(files))
		}
		varLen := int(binary.LittleEndian.Uint16(fixed[28:])) + int(binary.LittleEndian.Uint16(fixed[30:])) + int(binary.LittleEndian.Uint16(fixed[32:]))
		remaining -= lenCentral + int64(varLen)
		if remaining < 0 {
			return nil, corruptf("central directory record %d runs past the directory", len(files))
		}
		variable = slices.Grow(variable[:0], varLen)[:varLen]
		if _, err := io.ReadFull(br, variable); err != nil {
			return nil, readErr(err)
		}
		f, err := parseCentral(fixed[:], variable, d)
		if err != nil {
			return nil, err
		}
		f.r = owner
		files = append(files, f)
	}
	if d.zip64 && uint64(len(files)) != d.records || !d.zip64 && uint16(len(files)) != uint16(d.records) {
		return nil, corruptf("central directory holds %d entries, end record says %d", len(files), d.records)
	}
	if err := checkLayout(files, d.start); err != nil {
		return nil, err
	}
	return files, nil
}

// parseCentral decodes one central directory record: fixed is the 46-byte
// header, variable the name, extra field and comment.
func parseCentral(fixed, variable []byte, d directoryEnd) (*File, error) {
	le := binary.LittleEndian
	nameLen := int(le.Uint16(fixed[28:]))
	extraLen := int(le.Uint16(fixed[30:]))
	name := string(variable[:nameLen])
	extra := variable[nameLen : nameLen+extraLen]
	comment := string(variable[nameLen+extraLen:])

	h := header{
		flags:   le.Uint16(fixed[8:]),
		method:  le.Uint16(fixed[10:]),
		dosTime: le.Uint16(fixed[12:]),
		dosDate: le.Uint16(fixed[14:]),
		crc32:   le.Uint32(fixed[16:]),
		csize:   uint64(le.Uint32(fixed[20:])),
		usize:   uint64(le.Uint32(fixed[24:])),
		offset:  uint64(le.Uint32(fixed[42:])),
		nameLen: nameLen,
	}
	needUSize := h.usize == 0xffffffff
	needCSize := h.csize == 0xffffffff
	needOffset := h.offset == 0xffffffff
	modified := dosDateTime(h.dosDate, h.dosTime)
	var aesExtra []byte
	for rest := extra; len(rest) >= 4; {
		tag := le.Uint16(rest)
		size := int(le.Uint16(rest[2:]))
		if len(rest)-4 < size {
			break // trailing padding some writers leave; ignored like other readers do
		}
		field := rest[4 : 4+size]
		rest = rest[4+size:]
		switch tag {
		case extraZip64:
			// Only the fields whose 32-bit value is saturated are present, in
			// this order.
			if needUSize && len(field) >= 8 {
				h.usize, field, needUSize = le.Uint64(field), field[8:], false
			}
			if needCSize && len(field) >= 8 {
				h.csize, field, needCSize = le.Uint64(field), field[8:], false
			}
			if needOffset && len(field) >= 8 {
				h.offset, needOffset = le.Uint64(field), false
			}
		case extraExtTime:
			if len(field) >= 5 && field[0]&1 != 0 {
				modified = time.Unix(int64(int32(le.Uint32(field[1:]))), 0).UTC()
			}
		case extraNTFS:
			if t, ok := ntfsModified(field); ok {
				modified = t
			}
		case extraWinZipAES:
			aesExtra = field
		}
	}
	if needUSize || needCSize || needOffset {
		return nil, corruptf("entry %q: zip64 sizes missing", name)
	}
	if h.offset > uint64(d.start-d.base) || h.csize > uint64(d.start) {
		return nil, corruptf("entry %q: offset %d or size %d outside the archive", name, h.offset, h.csize)
	}
	h.offset += uint64(d.base)
	f := &File{
		Name:             name,
		Comment:          comment,
		Method:           h.method,
		Flags:            h.flags,
		Modified:         modified,
		CRC32:            h.crc32,
		CompressedSize:   h.csize,
		UncompressedSize: h.usize,
	}
	classifyEncryption(f, &h, aesExtra)
	f.h = h
	return f, nil
}

// classifyEncryption fills in the encryption fields of f and h from the
// flags and the WinZip AES extra field. A problem that only matters when the
// entry is opened is kept in h.openErr so the rest of the archive stays
// readable.
func classifyEncryption(f *File, h *header, aesExtra []byte) {
	switch {
	case h.flags&flagMaskedHeaders != 0:
		f.Encryption = EncryptionUnknown
		h.openErr = errUnsupportedf("encrypted central directory (PKWARE strong encryption)")
	case h.flags&flagEncrypted == 0:
		if h.method == methodAES {
			h.openErr = corruptf("method 99 (WinZip AES) without the encryption flag")
		}
	case h.flags&flagStrong != 0:
		f.Encryption = EncryptionUnknown
		h.openErr = errUnsupportedf("PKWARE strong encryption")
	case h.method != methodAES:
		f.Encryption = EncryptionZipCrypto
	default:
		f.Encryption = EncryptionUnknown
		if len(aesExtra) < 7 {
			h.openErr = corruptf("WinZip AES entry without its 0x9901 extra field")
			return
		}
		version := binary.LittleEndian.Uint16(aesExtra[0:])
		if version != 1 && version != 2 || aesExtra[2] != 'A' || aesExtra[3] != 'E' {
			h.openErr = errUnsupportedf("WinZip AES extra field version %d", version)
			return
		}
		switch aesExtra[4] {
		case 1:
			f.Encryption = EncryptionAES128
		case 2:
			f.Encryption = EncryptionAES192
		case 3:
			f.Encryption = EncryptionAES256
		default:
			h.openErr = corruptf("WinZip AES strength %d", aesExtra[4])
			return
		}
		f.AESVersion = int(version)
		h.method = binary.LittleEndian.Uint16(aesExtra[5:])
		f.Method = h.method
	}
}

// checkLayout refuses entries whose data would overlap another entry or the
// central directory. Overlapping entries are how non-recursive zip bombs
// (many directory records pointing at the same compressed data) multiply
// their output; no ordinary writer produces them.
func checkLayout(files []*File, dirStart int64) error {
	order := make([]*File, len(files))
	copy(order, files)
	slices.SortFunc(order, func(a, b *File) int {
		switch {
		case a.h.offset < b.h.offset:
			return -1
		case a.h.offset > b.h.offset:
			return 1
		}
		return 0
	})
	for i, f := range order {
		limit := uint64(dirStart)
		if i+1 < len(order) {
			limit = order[i+1].h.offset
		}
		// The local header repeats the name, so this is a lower bound on
		// where the entry's data ends; Open checks the exact end.
		minEnd := f.h.offset + lenLocal + uint64(f.h.nameLen) + f.h.csize
		if minEnd > limit {
			return corruptf("entry %q overlaps the next entry or the central directory", f.Name)
		}
		f.h.dataLimit = int64(limit)
	}
	return nil
}

// dosDateTime converts MS-DOS date and time fields. They carry no time zone;
// the wall-clock value is reported in UTC.
func dosDateTime(date, tm uint16) time.Time {
	return time.Date(
		int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(tm>>11), int(tm>>5&0x3f), int(tm&0x1f)*2, 0, time.UTC)
}

// ntfsModified reads the modification time from an NTFS extra field.
func ntfsModified(field []byte) (time.Time, bool) {
	if len(field) < 4 {
		return time.Time{}, false
	}
	for rest := field[4:]; len(rest) >= 4; {
		tag := binary.LittleEndian.Uint16(rest)
		size := int(binary.LittleEndian.Uint16(rest[2:]))
		if len(rest)-4 < size {
			return time.Time{}, false
		}
		if tag == 1 && size >= 24 {
			// 100-nanosecond intervals since 1601-01-01 UTC.
			ticks := binary.LittleEndian.Uint64(rest[4:])
			const epochDiff = 116444736000000000 // 1601 to 1970 in ticks
			if ticks < epochDiff {
				return time.Time{}, false
			}
			since := ticks - epochDiff
			return time.Unix(int64(since/1e7), int64(since%1e7)*100).UTC(), true
		}
		rest = rest[4+size:]
	}
	return time.Time{}, false
}

// readErr maps a short read of archive structure to ErrCorrupt and keeps
// other I/O errors as they are.
func readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return corruptf("unexpected end of archive")
	}
	return err
}

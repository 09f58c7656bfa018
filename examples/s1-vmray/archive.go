package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// encryptedZip returns a zip archive holding one stored file protected with
// the legacy ZipCrypto scheme and password: the kind of password-protected
// archive ("infected") malware is often delivered in. The demo's VMRay
// submission carries the password (vmray.archive_password) so the sandbox
// can open it.
func encryptedZip(name string, content []byte, password string) []byte {
	keys := [3]uint32{0x12345678, 0x23456789, 0x34567890}
	update := func(c byte) {
		keys[0] = crc32.IEEETable[byte(keys[0])^c] ^ keys[0]>>8
		keys[1] = (keys[1]+keys[0]&0xff)*134775813 + 1
		keys[2] = crc32.IEEETable[byte(keys[2])^byte(keys[1]>>24)] ^ keys[2]>>8
	}
	encrypt := func(c byte) byte {
		t := uint16(keys[2] | 2)
		out := c ^ byte((uint32(t)*uint32(t^1))>>8)
		update(c)
		return out
	}
	for i := range len(password) {
		update(password[i])
	}
	crc := crc32.ChecksumIEEE(content)
	// The 12-byte encryption header: fixed filler (the demo needs no
	// randomness), its last byte the check byte from the CRC.
	var data []byte
	for i := range 11 {
		data = append(data, encrypt(byte(0x5a+i)))
	}
	data = append(data, encrypt(byte(crc>>24)))
	for _, c := range content {
		data = append(data, encrypt(c))
	}
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	const dosTime, dosDate = 0x6000, 0x5a77 // 2025-03-23 12:00
	// Local file header.
	le(uint32(0x04034b50))
	le([]uint16{20, 1, 0, dosTime, dosDate})
	le([]uint32{crc, uint32(len(data)), uint32(len(content))})
	le([]uint16{uint16(len(name)), 0})
	b.WriteString(name)
	b.Write(data)
	cd := b.Len()
	// Central directory.
	le(uint32(0x02014b50))
	le([]uint16{20, 20, 1, 0, dosTime, dosDate})
	le([]uint32{crc, uint32(len(data)), uint32(len(content))})
	le([]uint16{uint16(len(name)), 0, 0, 0, 0})
	le([]uint32{0, 0})
	b.WriteString(name)
	cdLen := b.Len() - cd
	// End of central directory.
	le(uint32(0x06054b50))
	le([]uint16{0, 0, 1, 1})
	le([]uint32{uint32(cdLen), uint32(cd)})
	le(uint16(0))
	return b.Bytes()
}

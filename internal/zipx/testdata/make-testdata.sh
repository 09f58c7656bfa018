#!/usr/bin/env bash
# Regenerates the test archives in this directory with the real tools.
# Needs: Info-ZIP zip 3.0 (Debian package zip), 7-Zip (7zip or p7zip-full),
# bsdtar from libarchive 3.6 (libarchive-tools), coreutils.
# Encryption salts are random, so the archives differ byte for byte on every
# run; the tests depend only on their contents, names and passwords.
set -euo pipefail
export TZ=UTC LC_ALL=C.UTF-8

out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Inputs. Every file gets the same modification time, 2024-05-02 09:16:40 UTC.
printf 'hello, zipx\n' > hello.txt          # 12 bytes, stays stored even when deflate is asked for
seq 1 10000 > numbers.txt                   # 48894 bytes, deflates about 4:1
: > empty.txt
mkdir -p C/Users/jdoe/Downloads
seq 1 3000 > C/Users/jdoe/Downloads/invoice_8821.exe
printf '[{"path":"C:\\\\Users\\\\jdoe\\\\Downloads\\\\invoice_8821.exe","sha1":"%s","reason":""}]\n' \
  "$(sha1sum C/Users/jdoe/Downloads/invoice_8821.exe | cut -d' ' -f1)" > manifest.json
seq 1 3000 > filedata
seq 1 2000 > sample.exe
head -c 268435456 /dev/zero > zeros.bin     # 256 MiB of zeros for the bomb
for n in 1 2 3 4; do echo "evil $n" > "evil$n.txt"; done
find . -exec touch -d '2024-05-02 09:16:40' {} +
rm -f "$out"/*.zip

# ZipCrypto, Info-ZIP: it always writes a data descriptor for encrypted
# entries (flag bit 3), so the password check byte comes from the MS-DOS time.
zip -q -X -0 -P secret "$out/zipcrypto-stored.zip" hello.txt numbers.txt empty.txt
zip -q -X -9 -P secret "$out/zipcrypto-deflated.zip" hello.txt numbers.txt empty.txt
# ZipCrypto, 7-Zip: no data descriptor, the check byte comes from the CRC-32.
7z a -bd -bso0 -tzip -mem=ZipCrypto -psecret "$out/zipcrypto-7z.zip" hello.txt numbers.txt empty.txt

# WinZip AES, 7-Zip: AE-2 (no CRC-32), stored and deflated, three key sizes.
for bits in 128 192 256; do
  7z a -bd -bso0 -tzip -mem=AES$bits -mx=0 -psecret "$out/aes$bits-stored.zip" hello.txt numbers.txt empty.txt
  7z a -bd -bso0 -tzip -mem=AES$bits -mx=9 -psecret "$out/aes$bits-deflated.zip" hello.txt numbers.txt empty.txt
done
# WinZip AES, bsdtar: AE-1 (CRC-32 checked) for files of 20 bytes and more,
# AE-2 below, with data descriptors.
bsdtar --format zip --options zip:encryption=aes256 --passphrase secret -cf "$out/aes256-ae1-deflated.zip" hello.txt numbers.txt
bsdtar --format zip --options zip:compression=store,zip:encryption=aes128 --passphrase secret -cf "$out/aes128-ae1-stored.zip" hello.txt numbers.txt

# Vendor-shaped archives.
zip -q -X -r -P 'Infected!2024' "$out/sentinelone-fetch.zip" manifest.json C   # SentinelOne fetched file
zip -q -X -P infected "$out/vmray-sample.zip" sample.exe                      # VMRay sample download
zip -q -X "$out/cbc-ubs.zip" filedata                                         # Carbon Black UBS download

# Structure variants.
zip -q -X -fz "$out/zip64.zip" numbers.txt                                    # forced zip64 records
7z a -bd -bso0 -tzip -mm=BZip2 "$out/bzip2.zip" numbers.txt                   # unsupported method 12

# Hostile archives.
zip -q -X -9 "$out/bomb.zip" zeros.bin                                        # 256 MiB of zeros in about 250 KiB
bsdtar -P --format zip -cf "$out/zip-slip.zip" \
  -s ',^evil1.txt$,../evil.txt,' -s ',^evil2.txt$,/tmp/evil.txt,' \
  -s ',^evil3.txt$,..\\evil.txt,' -s ',^evil4.txt$,C:\\evil.txt,' \
  hello.txt evil1.txt evil2.txt evil3.txt evil4.txt
head -c $(( $(stat -c %s "$out/aes256-deflated.zip") - 100 )) "$out/aes256-deflated.zip" > "$out/truncated.zip"  # lose the last 100 bytes: the end record and part of the central directory

# Tampering: flip the lowest bit of the byte at offset 1000, which lies in the
# encrypted data of numbers.txt in each of these archives.
flip() {
  local b
  cp "$1" "$2"
  b=$(od -An -tu1 -j1000 -N1 "$2" | tr -d ' ')
  printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$2" bs=1 seek=1000 conv=notrunc status=none
}
flip "$out/aes256-deflated.zip" "$out/tampered-aes256-deflated.zip"
flip "$out/aes128-stored.zip" "$out/tampered-aes128-stored.zip"
flip "$out/aes256-ae1-deflated.zip" "$out/tampered-aes256-ae1-deflated.zip"
flip "$out/zipcrypto-stored.zip" "$out/tampered-zipcrypto-stored.zip"
flip "$out/zipcrypto-deflated.zip" "$out/tampered-zipcrypto-deflated.zip"

# Fuzzing seeds: the same formats in under 1 KiB each, so that FuzzReader's
# mutations and minimisations stay fast (the big archives above make every
# step of the fuzzer cost thousands of execs).
seq 1 40 > small.txt                                                          # 111 bytes, deflates
mkdir -p seedtree/C/Users/jdoe
cp hello.txt small.txt empty.txt seedtree/ && cp small.txt seedtree/C/Users/jdoe/invoice.exe
find small.txt seedtree -exec touch -d '2024-05-02 09:16:40' {} +
zip -q -X -0 -P secret "$out/seed-zipcrypto-stored.zip" hello.txt empty.txt
zip -q -X -9 -P secret "$out/seed-zipcrypto-deflated.zip" small.txt
zip -q -X -fz "$out/seed-zip64.zip" small.txt
(cd seedtree && zip -q -X -r "$out/seed-tree.zip" .)                         # directory entries and a nested file
head -c $(( $(stat -c %s "$out/seed-zipcrypto-deflated.zip") - 30 )) "$out/seed-zipcrypto-deflated.zip" > "$out/seed-truncated.zip"

ls -l "$out"/*.zip

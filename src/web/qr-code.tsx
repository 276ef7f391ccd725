import { encodeQR } from 'qr';

// A QR code drawn as SVG in the page, so a phone's authenticator app can scan the otpauth://
// link. Made in the browser by `qr` (no dependencies, no native code; its decoder is not
// bundled): the secret never goes to a service that draws QR codes. React elements, not
// markup, so the page's CSP (no inline styles or scripts) holds.
export function QrCode({ text, label }: { text: string; label: string }) {
  // With the white margin of four modules that scanners need around the code.
  const modules = encodeQR(text, 'raw', { ecc: 'medium', border: 4 });
  const size = modules.length;
  let d = '';
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) d += `M${x} ${y}h1v1h-1z`;
  }));
  return (
    <svg className="qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} shapeRendering="crispEdges" data-testid="totp-qr">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

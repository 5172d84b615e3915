import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Scripts run, and the page reads nothing but the extension's dist/ and media/ (DESIGN.md section 6). */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

/**
 * The one page every panel uses: a strict CSP (no inline code, scripts only
 * with this page's nonce, styles, images and fonts only from the extension),
 * the panel's stylesheets, an empty root, and its one script. Data never goes
 * into this HTML; it arrives by postMessage.
 */
export function panelPage(webview: vscode.Webview, extensionUri: vscode.Uri, page: { title: string; script: string; styles: string[] }): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (relative: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...relative.split('/'))).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${page.styles.map((s) => `<link rel="stylesheet" href="${asset(s)}">`).join('\n')}
<title>${page.title}</title>
</head>
<body>
<main id="root"><p>Loading…</p></main>
<script nonce="${nonce}" src="${asset(page.script)}"></script>
</body>
</html>`;
}

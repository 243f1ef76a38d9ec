// What babysit prints about files and runs goes to a terminal: a file's name (or a message quoting
// it) holding escape sequences would set the window title, recolour or clear the screen. Control
// characters (C0, DEL, C1) are shown as U+FFFD instead; the command's own output (`babysit run`)
// is passed through untouched, as it would reach the terminal without babysit.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One line of babysit's own output, safe to print. */
export function terminalText(line: string): string {
  return line.replace(CONTROL, "\ufffd");
}

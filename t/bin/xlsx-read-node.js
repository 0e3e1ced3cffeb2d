// t/bin/xlsx-read-node.js READER WORKBOOK: a workbook as one of the node
// readers sees it, as one JSON object on stdout in t/bin/xlsx-read's
// shape ({"sheets": [{"name", "rows": [[cell, ...], ...]}]}), each cell
// [kind, value, number format] or null where the reader has no cell.
//
//   READER  sheetjs          SheetJS (npm xlsx) readFile, cellDates
//           exceljs          ExcelJS Workbook.xlsx.readFile
//           exceljs-stream   ExcelJS's streaming stream.xlsx.WorkbookReader
//
// Kinds as t/bin/xlsx-read writes them: "n" number, "b" boolean, "s" text
// as the reader returns it, "d" a date the reader made (value
// "YYYY-MM-DD HH:MM:SS.ffffff", UTC), "t" a time of day (seconds; a date
// the reader made before 1900-03-01, i.e. a serial below 61). The readers'
// own date conversion is what is tested: run with TZ=UTC (SheetJS makes
// local dates). Modules come from NODE_PATH (t/bin/node-readers installs
// them into t/tmp/node). Exits 3 with {"error": ...} when the reader
// cannot open the file.
'use strict';

const EPOCH = Date.UTC(1899, 11, 30); // serial 0
const DAY = 86400000;

function pad(n, w) {
    return String(n).padStart(w, '0');
}

function dateCell(d, fmt) {
    const ms = d.getTime() - EPOCH;
    if (ms < 61 * DAY) {
        return ['t', ms / 1000, fmt];
    }
    const s = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-`
        + `${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:`
        + `${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.`
        + `${pad(d.getUTCMilliseconds(), 3)}000`;
    return ['d', s, fmt];
}

// A cell from a JavaScript value.
function cellOf(v, fmt) {
    if (v === null || v === undefined) {
        return null;
    }
    if (typeof v === 'boolean') {
        return ['b', v, fmt];
    }
    if (typeof v === 'number') {
        return ['n', String(v), fmt];
    }
    if (v instanceof Date) {
        return dateCell(v, fmt);
    }
    if (typeof v === 'object' && Array.isArray(v.richText)) {
        return ['s', v.richText.map((r) => r.text).join(''), fmt];
    }
    if (typeof v === 'object' && 'error' in v) {
        return ['e', String(v.error), fmt];
    }
    return ['s', String(v), fmt];
}

function place(rows, r, c, cell) {
    while (rows.length < r) {
        rows.push([]);
    }
    const row = rows[r - 1];
    while (row.length < c - 1) {
        row.push(null);
    }
    row[c - 1] = cell;
}

function sheetjs(path) {
    const XLSX = require('xlsx');
    const wb = XLSX.readFile(path, { cellDates: true, cellNF: true });
    return wb.SheetNames.map((name) => {
        const ws = wb.Sheets[name];
        const rows = [];
        if (ws['!ref']) {
            const range = XLSX.utils.decode_range(ws['!ref']);
            for (let r = range.s.r; r <= range.e.r; r++) {
                for (let c = range.s.c; c <= range.e.c; c++) {
                    const x = ws[XLSX.utils.encode_cell({ r, c })];
                    if (!x) {
                        continue;
                    }
                    let cell;
                    if (x.t === 'z') {
                        cell = null;
                    } else if (x.t === 'd') {
                        cell = dateCell(x.v, x.z || 'General');
                    } else {
                        cell = cellOf(x.v, x.z || 'General');
                    }
                    if (cell) {
                        place(rows, r + 1, c + 1, cell);
                    }
                }
            }
        }
        return { name, rows };
    });
}

async function exceljs(path) {
    const ExcelJS = require('exceljs');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    const sheets = [];
    wb.eachSheet((ws) => {
        const rows = [];
        ws.eachRow({ includeEmpty: false }, (row, r) => {
            row.eachCell({ includeEmpty: false }, (cell, c) => {
                const x = cellOf(cell.value, cell.numFmt || 'General');
                if (x) {
                    place(rows, r, c, x);
                }
            });
        });
        sheets.push({ name: ws.name, rows });
    });
    return sheets;
}

async function exceljsStream(path) {
    const ExcelJS = require('exceljs');
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
        worksheets: 'emit', sharedStrings: 'cache', styles: 'cache',
        hyperlinks: 'ignore', entries: 'ignore',
    });
    const sheets = [];
    for await (const ws of reader) {
        const rows = [];
        for await (const row of ws) {
            row.eachCell({ includeEmpty: false }, (cell, c) => {
                const x = cellOf(cell.value, cell.numFmt || 'General');
                if (x) {
                    place(rows, row.number, c, x);
                }
            });
        }
        sheets.push({ name: ws.name, id: ws.id, rows });
    }
    return sheets;
}

const readers = { sheetjs, exceljs, 'exceljs-stream': exceljsStream };

async function main() {
    const [reader, path] = process.argv.slice(2);
    if (!readers[reader]) {
        console.log(JSON.stringify({ error: `no reader ${reader}` }));
        return 2;
    }
    try {
        const sheets = await readers[reader](path);
        console.log(JSON.stringify({ sheets }));
        return 0;
    } catch (e) {
        console.log(JSON.stringify({ error: `${e.name}: ${e.message}` }));
        return 3;
    }
}

main().then((rc) => { process.exitCode = rc; });

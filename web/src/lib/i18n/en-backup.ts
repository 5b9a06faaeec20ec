import type { koBackup } from './ko-backup';

/** The backup card in English. */
export const enBackup: Partial<Record<keyof typeof koBackup, string>> = {
  'backup.title': 'Backup: export and import',
  'backup.help': 'Downloads your commands (with their version history), schedules, store keys and tables with their rows as one JSON file. Secrets go by name only, never their values. Bots, phones, rooms and API keys are not in it.',
  'backup.export': 'Export',
  'backup.importLabel': 'File to import (.json)',
  'backup.importHelp': 'Only into an empty account (no commands, tables or store keys). A schedule is made only when one of your bots has a room of the same name.',
  'backup.import': 'Import',
  'backup.notJson': 'The file is not JSON. Choose a file exported from Domaeka.',
  'backup.summary': 'Imported {commands} commands ({versions} versions), {schedules} schedules and {storeKeys} store keys.',
  'backup.tableRows': 'Table {name}: {rows} rows',
  'backup.skipped': 'Schedule skipped, no such room: {label} ({command}) — {rooms}',
  'backup.secretsToFill': 'Enter these secrets again (their values are not in the file): {names}',
  'backup.headersToFill': 'Enter this header again: {header} of the command {command}',
};

/**
 * The functions tenant SQL may call (issue 15, "tables"): ordinary
 * aggregates, string, math, date/time, conditional and JSON functions.
 * An allowlist, not a denylist: PostgreSQL has thousands of functions and
 * a new release adds more; whatever is not here (set_config,
 * current_setting, pg_*, lo_*, dblink, nextval, to_regclass, the admin and
 * file functions, ...) is refused by the guard. Names are lower case; SQL
 * syntax forms the parser turns into `pg_catalog.<name>` calls (extract,
 * substring ... from, trim, overlay, position, at time zone) are here under
 * that name.
 */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates and window functions
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'percentile_cont', 'percentile_disc', 'mode', 'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile',
  'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // conditional
  'coalesce', 'nullif', 'greatest', 'least', 'num_nulls', 'num_nonnulls',
  // strings
  'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'lower', 'upper', 'initcap', 'concat', 'concat_ws',
  'substr', 'substring', 'left', 'right', 'lpad', 'rpad', 'ltrim', 'rtrim', 'btrim', 'trim', 'replace', 'translate', 'reverse',
  'repeat', 'strpos', 'position', 'split_part', 'starts_with', 'format', 'overlay', 'ascii', 'chr', 'md5', 'to_hex',
  'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'regexp_split_to_table', 'regexp_like',
  'regexp_count', 'regexp_instr', 'regexp_substr', 'string_to_array', 'array_to_string', 'string_to_table', 'quote_literal',
  'quote_nullable', 'normalize', 'unistr', 'encode', 'decode', 'to_char', 'to_number', 'to_date', 'to_timestamp',
  // math
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'mod', 'div', 'power', 'pow', 'sqrt', 'cbrt', 'exp', 'ln', 'log',
  'log10', 'pi', 'degrees', 'radians', 'random', 'width_bucket', 'gcd', 'lcm', 'factorial', 'scale', 'trim_scale',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2',
  // date and time
  'now', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'clock_timestamp',
  'statement_timestamp', 'transaction_timestamp', 'date_part', 'date_trunc', 'date_bin', 'extract', 'age', 'make_date',
  'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval', 'justify_days', 'justify_hours', 'justify_interval',
  'isfinite', 'timezone', 'date_add', 'date_subtract',
  // arrays and set-returning
  'array_length', 'array_position', 'array_positions', 'array_append', 'array_prepend', 'array_cat', 'array_remove',
  'array_replace', 'cardinality', 'unnest', 'generate_series', 'array_lower', 'array_upper', 'array_ndims', 'array_dims',
  'trim_array',
  // json
  'to_json', 'to_jsonb', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'json_object',
  'jsonb_object', 'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text',
  'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text', 'json_object_keys',
  'jsonb_object_keys', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'json_typeof', 'jsonb_typeof', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_set', 'jsonb_set_lax', 'jsonb_insert',
  'jsonb_pretty', 'jsonb_path_exists', 'jsonb_path_match', 'jsonb_path_query', 'jsonb_path_query_array',
  'jsonb_path_query_first', 'row_to_json', 'array_to_json', 'json_populate_record', 'jsonb_populate_record',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
  // ids
  'gen_random_uuid',
]);

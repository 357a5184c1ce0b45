{#
    Per-record and per-file metadata of the landing zone, for staging models:
    which delivery a record came from (its path relative to the landing root,
    so that moving or remounting the root re-stages nothing), when that file
    was last modified, and whether the record's line was malformed (rule R0).
#}

{#-
    The landing root: STEDI_LANDING_PATH without its trailing slash. It must
    be absolute (a path or a URI): a relative path would be resolved by each
    engine against its own working folder (Spark: the warehouse), not the
    folder the preflight checked. `make` and `stedi dbt` make it absolute.
-#}
{% macro landing_root() %}
    {%- set root = env_var('STEDI_LANDING_PATH').rstrip('/') -%}
    {%- if not (root.startswith('/') or '://' in root) -%}
        {{- exceptions.raise_compiler_error(
            "STEDI_LANDING_PATH=" ~ root ~ " is a relative path: give an absolute path or URI"
            ~ " (make and `stedi dbt` resolve a relative one against the folder they run in)"
        ) -}}
    {%- endif -%}
    {{- return(root) -}}
{% endmacro %}


{#-
    A file's path relative to the landing root (`customer/landing/2022/06/18/part.json`),
    from the full path an engine reports: the text after the root, found
    without its scheme, since engines qualify paths (`file:/data/...` for the
    root `/data`). A path outside the root is kept whole, so it can never
    match a staged delivery by accident.
-#}
{% macro landing_relative_path(path) %}
    {%- set root = landing_root() -%}
    {%- set marker = (root.split('://', 1)[1] if '://' in root else root) ~ '/' -%}
    {{- return(adapter.dispatch('landing_relative_path', 'stedi_lakehouse')(path, "'" ~ marker | replace("'", "''") ~ "'", marker | length)) -}}
{% endmacro %}

{% macro spark__landing_relative_path(path, marker, marker_length) -%}
    case when instr({{ path }}, {{ marker }}) > 0 then substring({{ path }}, instr({{ path }}, {{ marker }}) + {{ marker_length }}) else {{ path }} end
{%- endmacro %}

{% macro athena__landing_relative_path(path, marker, marker_length) -%}
    case when strpos({{ path }}, {{ marker }}) > 0 then substr({{ path }}, strpos({{ path }}, {{ marker }}) + {{ marker_length }}) else {{ path }} end
{%- endmacro %}


{#- The delivery a landing record was read from, relative to the landing root. -#}
{% macro landing_record_file() %}
    {{- return(adapter.dispatch('landing_record_file', 'stedi_lakehouse')()) -}}
{% endmacro %}

{#-
    Spark's `_metadata.file_path` is a URI, percent-encoded (`part%20one.json`);
    the file listing gives the plain path. url_decode also reads `+` as a
    space, which a URI path keeps as is: hence `+` becomes `%2B` first.
-#}
{% macro spark__landing_record_file() -%}
    {{ landing_relative_path("url_decode(replace(_metadata.file_path, '+', '%2B'))") }}
{%- endmacro %}

{#- The landing view's copy of the "$path" pseudo-column (athena__landing_table_ddl). -#}
{% macro athena__landing_record_file() -%}
    {{ landing_relative_path('_landing_file_path') }}
{%- endmacro %}


{#-
    When the landing file of a record was last modified, in epoch ms. Spark
    decides from the file listing alone which files a filter on it excludes,
    and never opens them: the watermark of incremental staging.
-#}
{% macro landing_record_file_modified_ms() %}
    {{- return(adapter.dispatch('landing_record_file_modified_ms', 'stedi_lakehouse')()) -}}
{% endmacro %}

{% macro spark__landing_record_file_modified_ms() -%}
    unix_millis(_metadata.file_modification_time)
{%- endmacro %}

{#- The landing view's copy of the "$file_modified_time" pseudo-column. -#}
{% macro athena__landing_record_file_modified_ms() -%}
    {{ athena__landing_epoch_ms('_landing_file_modified_at') }}
{%- endmacro %}


{#- A timestamp as epoch milliseconds (a bigint). -#}
{% macro landing_epoch_ms(timestamp) %}
    {{- return(adapter.dispatch('landing_epoch_ms', 'stedi_lakehouse')(timestamp)) -}}
{% endmacro %}

{% macro spark__landing_epoch_ms(timestamp) -%}
    unix_millis({{ timestamp }})
{%- endmacro %}

{% macro athena__landing_epoch_ms(timestamp) -%}
    cast(floor(to_unixtime({{ timestamp }}) * 1000) as bigint)
{%- endmacro %}


{#- True for a file read as data: `*.json` or `*.json.gz` (any other name is listed, not read). -#}
{% macro is_landing_data_file(path) -%}
    ({{ path }} like '%.json' or {{ path }} like '%.json.gz')
{%- endmacro %}


{#- The start of the dbt invocation in epoch ms: a file modified later arrived during the build. -#}
{% macro run_started_epoch_ms() -%}
    {{ (run_started_at.timestamp() * 1000) | int }}
{%- endmacro %}


{#
    True for a line the JSON reader could not turn into a record: not JSON,
    cut off, or with no declared field readable. `landing_table` is the name
    of a table of the landing source, whose declared data columns are checked
    (all but the reader's corrupt-record column).
#}
{% macro landing_record_is_malformed(landing_table) %}
    {%- set declared_columns = [] -%}
    {%- if execute -%}
        {%- set source_node = graph.sources['source.' ~ project_name ~ '.landing.' ~ landing_table] -%}
        {%- set corrupt_record_column = (source_node.external.options or {}).get('columnNameOfCorruptRecord') -%}
        {%- for column_name in source_node.columns if column_name != corrupt_record_column -%}
            {%- do declared_columns.append(adapter.quote(column_name | lower)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(adapter.dispatch('landing_record_is_malformed', 'stedi_lakehouse')(declared_columns)) -}}
{% endmacro %}

{% macro default__landing_record_is_malformed(declared_columns) -%}
    ({{ declared_columns | join(' is null and ') }} is null)
{%- endmacro %}

{#-
    Spark's JSON reader (mode PERMISSIVE) also flags a line whose values do not
    fit the declared types, in the corrupt-record column. The declared columns
    stay in the expression: Spark refuses a query that reads only that column.
-#}
{% macro spark__landing_record_is_malformed(declared_columns) -%}
    (_corrupt_record is not null or {{ default__landing_record_is_malformed(declared_columns) }})
{%- endmacro %}

{#-
    The Athena landing view sets the corrupt-record column as Spark's reader
    does for a value of the wrong type (athena__landing_table_ddl), and a line
    that is not JSON reads as a row of nulls: the Spark test holds as it is.
-#}
{% macro athena__landing_record_is_malformed(declared_columns) -%}
    {{ spark__landing_record_is_malformed(declared_columns) }}
{%- endmacro %}

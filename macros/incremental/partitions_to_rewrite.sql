{#
    The plan of an incremental build of the reading table being built: the
    (reading_date, subject_bucket) partitions whose rows may differ from what
    the table holds, as literals for the model's SQL and its hooks. A partition
    is rewritten whole from staging, so the plan must name every partition
    that holds or should hold a changed row:
    - the partitions of readings staged since the table's last build (its
      last `built` event in reading_table_log), at or after their subject's
      consent;
    - for every subject whose state changed since that build (a revocation,
      erasure request or late consent, a new consent time or a serial
      number's new owner, a new salt, a change of include_pre_consent_readings:
      reading_table_subjects holds the subject ids, buckets, reading keys and
      consents the table was built with), the partitions of all their staged
      readings from their earlier consent on in their earlier bucket, and from
      their current consent on in their current bucket;
    - for a table built from other reading tables (`inputs`), the partitions
      those rewrote since its last build.
    Returns {'whole': true} when the table is rebuilt whole (a first build, a
    full refresh, or bookkeeping without a build of it), else {'whole': false,
    'partitions': [[date, bucket], ...], 'changed_subjects': n}.
    `rewrite` (config, set by reading_table_config) names what to read.
#}
{% macro partitions_to_rewrite() %}
    {%- if not (execute and is_incremental()) -%}
        {{- return({'whole': true, 'partitions': [], 'changed_subjects': 0}) -}}
    {%- endif -%}
    {%- do require_rewritable_partitions(this) -%}
    {%- set rewrite = config.get('rewrite') -%}
    {%- set log = bookkeeping_relation('reading_table_log') -%}
    {%- set last_built = run_query(
        "select max(built_at) from " ~ log ~ " where table_name = '" ~ this.identifier ~ "' and event = 'built'"
    ).columns[0].values()[0] -%}
    {%- if last_built is none -%}
        {{- return({'whole': true, 'partitions': [], 'changed_subjects': 0}) -}}
    {%- endif -%}
    {%- set since = timestamp_literal(last_built) -%}
    {%- if rewrite.inputs -%}
        {%- set changed = 0 -%}
        {%- set queries = [rewritten_since(rewrite.inputs, since)] -%}
    {%- else -%}
        {%- set changed_states = changed_subject_states(rewrite) -%}
        {%- set changed = run_query(
            "select count(*) from (" ~ changed_states ~ ") as changed"
        ).columns[0].values()[0] | int -%}
        {%- set queries = [staged_since(rewrite, since)] -%}
        {%- if changed -%}
            {%- do queries.append(readings_of_subjects(rewrite, changed_states)) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set partitions = [] -%}
    {%- for row in run_query(queries | join('\nunion\n')).rows -%}
        {%- do partitions.append([row[0].isoformat(), row[1]]) -%}
    {%- endfor -%}
    {{- return({'whole': false, 'partitions': partitions | sort, 'changed_subjects': changed}) -}}
{% endmacro %}


{% macro timestamp_literal(value) -%}
    timestamp '{{ value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] }}'
{%- endmacro %}


{#- The well-formed staged readings of a rewrite spec: not malformed, with a reading time. -#}
{% macro well_formed(rewrite, alias) -%}
    not {{ alias }}.is_malformed and {{ alias }}.{{ adapter.quote(rewrite.reading_time) }} is not null
{%- endmacro %}


{#- Partitions of readings staged after `since`, of current subjects, from their consent on. -#}
{% macro staged_since(rewrite, since) -%}
    select distinct
        cast(staged.{{ rewrite.reading_at }} as date) as reading_date,
        subjects.subject_bucket
    from {{ ref(rewrite.readings) }} as staged
    inner join {{ ref(rewrite.subjects) }} as subjects
        on staged.{{ rewrite.reading_key }} = subjects.{{ rewrite.subject_key }}
    where
        staged.loaded_at > {{ since }}
        and {{ well_formed(rewrite, 'staged') }}
        and {{ within_research_consent(
            'staged.' ~ adapter.quote(rewrite.reading_time), 'subjects.sharewithresearchasofdate'
        ) }}
{%- endmacro %}


{#-
    The subject states (reading key, bucket, consent bound) that differ
    between the table's last build and now, as a query: each changed
    subject's earlier state and current one (one side only for someone who
    joined or left). A query, never literals, so a build's SQL does not grow
    with the subjects a day changes.
-#}
{% macro changed_subject_states(rewrite) -%}
    (
        {{ current_subject_states(rewrite) }}
        except
        {{ built_subject_states() }}
    )
    union all
    (
        {{ built_subject_states() }}
        except
        {{ current_subject_states(rewrite) }}
    )
{%- endmacro %}


{#- The subjects the table is built from now, as reading_table_subjects records them. -#}
{% macro current_subject_states(rewrite) -%}
    select
        subject_id,
        subject_bucket,
        {{ rewrite.subject_key }} as reading_key,
        {{ consent_bound('sharewithresearchasofdate') }} as research_consent
    from {{ ref(rewrite.subjects) }}
{%- endmacro %}


{#- The subjects the table was last built with. -#}
{% macro built_subject_states() -%}
    select
        subject_id,
        subject_bucket,
        reading_key,
        research_consent
    from {{ bookkeeping_relation('reading_table_subjects') }}
    where table_name = {{ quoted(this.identifier) }}
{%- endmacro %}


{#- A SQL string literal. -#}
{% macro quoted(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}


{#-
    The earliest reading time that counts for a subject: their consent, or none
    (null) when include_pre_consent_readings admits every reading. Recorded
    with the subjects, so that changing the var changes everyone's state.
-#}
{% macro consent_bound(consent) -%}
    {{ 'cast(null as bigint)' if var('include_pre_consent_readings') else consent }}
{%- endmacro %}


{#- Partitions of every staged reading of these subject states (a query) from their consent bound on. -#}
{% macro readings_of_subjects(rewrite, subject_states) -%}
    select distinct
        cast(staged.{{ rewrite.reading_at }} as date) as reading_date,
        subjects.subject_bucket
    from {{ ref(rewrite.readings) }} as staged
    inner join ({{ subject_states }}) as subjects
        on staged.{{ rewrite.reading_key }} = subjects.reading_key
    where
        {{ well_formed(rewrite, 'staged') }}
        and (
            subjects.research_consent is null
            or staged.{{ adapter.quote(rewrite.reading_time) }} >= subjects.research_consent
        )
{%- endmacro %}


{#- Partitions the `inputs` tables rewrote in builds after `since` that completed. -#}
{% macro rewritten_since(inputs, since) -%}
    {%- set log = bookkeeping_relation('reading_table_log') -%}
    {%- set names = [] -%}
    {%- for name in inputs -%}
        {%- do names.append("'" ~ ref(name).identifier ~ "'") -%}
    {%- endfor -%}
    select distinct
        rewritten.reading_date,
        rewritten.subject_bucket
    from {{ log }} as rewritten
    inner join {{ log }} as built
        on
            rewritten.table_name = built.table_name
            and rewritten.built_at = built.built_at
    where
        rewritten.table_name in ({{ names | join(', ') }})
        and rewritten.event = 'rewrote'
        and built.event = 'built'
        and rewritten.built_at > {{ since }}
{%- endmacro %}


{#-
    A table from before partitions by subject bucket cannot be rewritten by
    partition: stop with one line saying what to run.
-#}
{% macro require_rewritable_partitions(relation) %}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for column in ['loaded_at', 'reading_date', 'subject_bucket'] if column not in columns -%}
        {%- do exceptions.raise_compiler_error(
            relation ~ ' was built by an earlier version of this project (it has no ' ~ column ~ ' column): '
            ~ 'rebuild it once with `make build DBT_ARGS=--full-refresh` (dbt build --full-refresh)'
        ) -%}
    {%- endfor -%}
{% endmacro %}

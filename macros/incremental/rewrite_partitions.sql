{#
    The hooks of the reading tables act on the plan the model's SQL was
    compiled with (partitions_to_rewrite), which the model writes into its
    compiled SQL as a comment (rewrite_plan_comment): the hooks read it back
    from there, so they never disagree with the SQL and nothing is planned
    twice; target/run shows each build's plan. The comment lists the buckets
    of each date, so a plan that spans months of readings stays small.
#}
{% macro rewrite_plan_comment(plan) -%}
    {%- set buckets_by_date = {} -%}
    {%- for reading_date, subject_bucket in plan.partitions -%}
        {%- do buckets_by_date.setdefault(reading_date, []).append(subject_bucket) -%}
    {%- endfor -%}
    /* rewrite plan: {{ tojson({
        'whole': plan.whole,
        'changed_subjects': plan.changed_subjects,
        'buckets_by_date': buckets_by_date,
    }) }} */
{%- endmacro %}

{% macro compiled_rewrite_plan() %}
    {%- set match = modules.re.search('/\\* rewrite plan: (.*?) \\*/', compiled_code or '') -%}
    {%- if match is none -%}
        {%- do exceptions.raise_compiler_error(this ~ ': no rewrite plan in the compiled SQL; the model must render rewrite_plan_comment') -%}
    {%- endif -%}
    {%- set written = fromjson(match.group(1)) -%}
    {%- set partitions = [] -%}
    {%- for reading_date, buckets in written.buckets_by_date.items() | sort -%}
        {%- for subject_bucket in buckets -%}
            {%- do partitions.append([reading_date, subject_bucket]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return({'whole': written.whole, 'changed_subjects': written.changed_subjects, 'partitions': partitions}) -}}
{% endmacro %}


{#
    Pre-hook: remove what the build rewrites. Spark's dynamic partition
    overwrite (and dbt-athena's insert_overwrite) replace only the partitions
    the new rows fall in, so a partition left with no rows (the last readings
    of a revoked person on that date and bucket) would keep its old rows: the
    plan's partitions are dropped first. Should the build fail after this,
    those rows are missing, never stale, until the next build rewrites them
    (its plan holds them again: nothing is recorded until the post-hook).
    Rebuilding whole, the partitions the table holds now are recorded as
    rewritten before they go, so the tables built from it rewrite them too.
#}
{% macro before_rewriting_partitions() %}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set plan = compiled_rewrite_plan() -%}
    {%- set existing = load_relation(this) -%}
    {%- if existing is none -%}
        {{- return('') -}}
    {%- elif plan.whole -%}
        {#- a table from before subject buckets names no partition the log knows: its full refresh is the whole project's -#}
        {%- if 'subject_bucket' in adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
            {%- do log_every_partition(existing) -%}
        {%- endif -%}
        {%- if not should_full_refresh() -%}
            {#- the log knows no build of this table: start it over -#}
            {%- do adapter.dispatch('remove_all_rows', 'stedi_lakehouse')(existing) -%}
        {%- endif -%}
    {%- elif plan.partitions -%}
        {%- do log(
            this ~ ": " ~ plan.partitions | length ~ " partitions to rewrite, "
            ~ plan.changed_subjects ~ " subject states changed", info=true
        ) -%}
        {%- do adapter.dispatch('drop_partitions', 'stedi_lakehouse')(existing, plan.partitions) -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#
    Post-hook: once the rows are written, record the rewritten partitions with
    the `built` event (only then do they count: for the next build's plan, for
    the tables built from this one, and for the data tests' scope) and the
    subjects the table is now built with. A build with nothing to rewrite
    records nothing.
#}
{% macro after_rewriting_partitions() %}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set plan = compiled_rewrite_plan() -%}
    {%- if not (plan.whole or plan.partitions or plan.changed_subjects) -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set rewrite = config.get('rewrite') -%}
    {%- if plan.whole -%}
        {%- do log_every_partition(this) -%}
    {%- endif -%}
    {%- if rewrite.subjects -%}
        {%- do record_subjects(rewrite) -%}
    {%- endif -%}
    {%- do log_reading_table_events(this.identifier, [none] if plan.whole else plan.partitions) -%}
    {{- return('') -}}
{% endmacro %}


{% macro spark__remove_all_rows(relation) %}
    {%- do run_query('truncate table ' ~ relation) -%}
{% endmacro %}

{#- Athena has no TRUNCATE: delete the table's files, keep its definition. -#}
{% macro athena__remove_all_rows(relation) %}
    {%- do adapter.clean_up_table(relation) -%}
{% endmacro %}


{#- Only the partitions that exist: each drop is a metastore call, and most of a plan is new. -#}
{% macro spark__drop_partitions(relation, partitions) %}
    {%- set existing = [] -%}
    {%- for row in run_query('show partitions ' ~ relation).rows -%}
        {%- do existing.append(row[0]) -%}
    {%- endfor -%}
    {%- set specs = [] -%}
    {%- for reading_date, subject_bucket in partitions
        if 'reading_date=' ~ reading_date ~ '/subject_bucket=' ~ subject_bucket in existing -%}
        {%- do specs.append(
            "partition (reading_date = " ~ quoted(reading_date) ~ ", subject_bucket = " ~ quoted(subject_bucket) ~ ")"
        ) -%}
    {%- endfor -%}
    {%- for batch in specs | batch(200) -%}
        {%- do run_query("alter table " ~ relation ~ " drop if exists " ~ batch | join(', ')) -%}
    {%- endfor -%}
{% endmacro %}

{#- Glue partition expressions: deletes the partitions' S3 files and Glue entries. -#}
{% macro athena__drop_partitions(relation, partitions) %}
    {%- set conditions = [] -%}
    {%- for reading_date, subject_bucket in partitions -%}
        {%- do conditions.append(
            "reading_date = " ~ quoted(reading_date) ~ " and subject_bucket = " ~ quoted(subject_bucket)
        ) -%}
    {%- endfor -%}
    {%- if conditions -%}
        {%- do adapter.clean_up_partitions(relation, conditions) -%}
    {%- endif -%}
{% endmacro %}

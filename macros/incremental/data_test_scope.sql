{#
    Data tests of the reading tables carry the `where`
    stedi_rows_this_build_may_have_changed (set in their YAML). dbt renders `where` when it parses the project, and partial
    parsing keeps that text across builds, so the scope cannot be written
    there; it is resolved here instead, when each test runs: on an incremental
    build, the rows of the partitions the table rewrote in every build since
    its data tests last all passed (this build included). Those partitions
    hold every row this build wrote and every row of a person whose consent,
    bucket or device ownership changed (the plan rewrites all of their
    partitions), which are the only rows that can have become wrong; any
    other row was proven by a passing build and nothing it depends on has
    changed. A full refresh, a table whose tests never passed, and the var
    data_tests_on_whole_tables test whole tables; `dbt compile` shows the
    whole-table SQL (it queries nothing).
    Overrides dbt's get_where_subquery; any other `where` works as in dbt.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'stedi_rows_this_build_may_have_changed' -%}
        {%- set where = rows_to_test(relation) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The condition on `relation`'s rows a data test must prove, or '' for every row. -#}
{% macro rows_to_test(relation) %}
    {%- if not execute or flags.WHICH not in ['build', 'test'] or flags.FULL_REFRESH or var('data_tests_on_whole_tables') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set log = bookkeeping_relation('reading_table_log') -%}
    {%- set table_name = quoted(relation.identifier) -%}
    {%- set last_tested -%}
        (select max(built_at) from {{ log }} where table_name = {{ table_name }} and event = 'tested')
    {%- endset -%}
    {%- set query -%}
        select
            'never tested' as kind,
            cast(null as date) as reading_date,
            cast(null as {{ dbt.type_string() }}) as subject_bucket
        from (select {{ last_tested }} as tested_at) as tested
        where tested_at is null
        union all
        select distinct
            'rewritten' as kind,
            rewritten.reading_date,
            rewritten.subject_bucket
        from {{ log }} as rewritten
        inner join {{ log }} as built
            on
                rewritten.table_name = built.table_name
                and rewritten.built_at = built.built_at
        where
            rewritten.table_name = {{ table_name }}
            and rewritten.event = 'rewrote'
            and built.event = 'built'
            and rewritten.built_at > {{ last_tested }}
    {%- endset -%}
    {%- set partitions = [] -%}
    {%- for kind, reading_date, subject_bucket in run_query(query).rows -%}
        {%- if kind == 'never tested' -%}
            {{- return('') -}}
        {%- endif -%}
        {%- do partitions.append([reading_date.isoformat(), subject_bucket]) -%}
    {%- endfor -%}
    {{- return(in_partitions_to_rewrite({'whole': false, 'partitions': partitions}, 'reading_date', 'subject_bucket')) -}}
{% endmacro %}


{#
    on-run-end: a `tested` event for each reading table whose data tests all
    ran in this invocation and passed; the next build's tests start from there.
#}
{% macro record_tested_reading_tables(results) %}
    {%- if not execute or flags.WHICH not in ['build', 'test'] -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- for result in results if result.node.resource_type == 'test' and result.status == 'pass' -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- set rows = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.get('rewrite') -%}
        {%- set tests = [] -%}
        {%- for test in graph.nodes.values() if test.resource_type == 'test' and test.attached_node == node.unique_id -%}
            {%- do tests.append(test.unique_id) -%}
        {%- endfor -%}
        {%- if tests and tests | reject('in', passed) | list | length == 0 -%}
            {%- do rows.append(log_row(node.alias, 'tested')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if rows -%}
        {%- do run_query("insert into " ~ bookkeeping_relation('reading_table_log') ~ " values " ~ rows | join(', ')) -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}

{#
    The closing select of a landing outcome model: one row per expected
    outcome of `landing_table` (each reason, then `kept`), counting the rows of
    the `outcomes` CTE (columns measure, reason), zero when none. An outcome
    not in the list is left out, so build_record_counts' landing_records_add_up
    test fails rather than hide it.
#}
{% macro landing_outcome_counts(landing_table, reasons, outcomes) %}
select
    '{{ landing_table }}' as landing_table,
    expected_outcomes.measure,
    expected_outcomes.reason,
    coalesce(outcome_counts.record_count, 0) as record_count

from (
    {%- for reason in reasons %}
    select
        'excluded' as measure,
        '{{ reason }}' as reason
    union all
    {%- endfor %}
    select
        'kept' as measure,
        cast(null as {{ dbt.type_string() }}) as reason
) as expected_outcomes
left join (
    select
        measure,
        reason,
        count(*) as record_count
    from {{ outcomes }}
    group by measure, reason
) as outcome_counts
    on
        expected_outcomes.measure = outcome_counts.measure
        and coalesce(expected_outcomes.reason, '') = coalesce(outcome_counts.reason, '')
{% endmacro %}

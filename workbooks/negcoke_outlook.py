"""The Python side of negcoke_outlook.xlsm (the xlwings quickstart convention).

The workbook's SampleCall macro runs RunPython "import negcoke_outlook; negcoke_outlook.main()": keep this
file beside the workbook, under the same name. main() refreshes the open workbook with the current
dataset and template (xl_negcoke.macros.refresh_workbook), keeping every cell of yours.
"""

import xl_negcoke.macros


def main():
    """Refresh the workbook that called (the SampleCall macro or a button assigned to it)."""
    xl_negcoke.macros.refresh_workbook()

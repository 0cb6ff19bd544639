@{
    # Stands in for ExchangeOnlineManagement 3.x in tests and the demo: the version is what configure-exchange checks.
    RootModule        = 'FakeExchangeOnline.psm1'
    ModuleVersion     = '3.9.0'
    GUID              = 'a4f0f6d2-3b1e-4f7c-9d7e-6c1e2b8a5f31'
    Author            = 'd365-exo-sync tests'
    Description       = 'Fake Exchange Online tenant with the ExchangeOnlineManagement cmdlet shapes configure-exchange uses.'
    PowerShellVersion = '5.1'
    FunctionsToExport = @(
        'New-FakeExchangeState', 'Reset-FakeExchange', 'Get-FakeExchange', 'Get-FakeExchangeCall', 'Save-FakeExchange',
        'Connect-ExchangeOnline', 'Disconnect-ExchangeOnline', 'Get-OrganizationConfig', 'Set-OrganizationConfig',
        'Get-CASMailbox', 'Set-CASMailbox'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
